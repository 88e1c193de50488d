"""The resource model's exact parts (DSP, block RAM) and structural counts, against the RTL's structure."""

from __future__ import annotations

import numpy as np

from neurocal.hw.generate import HwConfig, shape_from_config
from neurocal.hw.resource_model import exact, features, tree_bits
from neurocal.testnets import random_network


def test_adder_tree_bits_follow_the_node_widths() -> None:
    # 4 banks: two 10-bit nodes and one 11-bit root per lane, then the 16-bit accumulator add
    assert tree_bits(lanes=3, rows=4, acc_w=16) == 3 * (2 * 10 + 11 + 16)
    # nodes are capped at the accumulator width; one bank has no tree, only the add
    assert tree_bits(lanes=1, rows=8, acc_w=10) == 4 * 10 + 2 * 10 + 10 + 10
    assert tree_bits(lanes=2, rows=1, acc_w=12) == 2 * 12


def test_dsps_are_two_per_lif_updater_and_block_ram_the_banks_budget() -> None:
    rng = np.random.default_rng(3)
    net = random_network([400, 50, 30, 1], rng)
    shape = shape_from_config(net, HwConfig())
    assert shape.lif_lanes == (25, 15, 1)  # the default: half the updaters of a one-group layer with even lanes
    assert exact(shape)["DSP"] == 2 * (25 + 15 + 1)
    assert exact(shape)["BRAM36"] == sum(shape.block_banks[i] * shape.bank_bram36(i) for i in range(3)) > 0
    f = features(shape)
    assert f["lif"] == 41 and f["read_bits"] == 9 * (31 * 50 + 8 * 30 + 8 * 1)
    assert f["rx_lines"] == 400 * shape.words and f["core"] == 1
