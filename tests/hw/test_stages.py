"""Unit tests of the pipeline stages, each alone under cocotb with random back-pressure:
nc_aer_rx (AER beats → rasters), nc_lif_layer (rasters → rasters and voltages, against the golden
model), nc_aer_tx (rasters and voltages → the output stream of neurocal.aer)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurocal import aer
from neurocal.golden import GoldenBackend
from neurocal.hw import simulators
from neurocal.hw.generate import generate, shape_for
from neurocal.hw.sources import rtl_sources
from neurocal.testnets import random_network

pytestmark = pytest.mark.rtl


def _raster(bits: np.ndarray) -> int:
    return sum(1 << int(i) for i in np.flatnonzero(bits))


def _token(payload: int, width: int, eoe: bool = False, event: int = 0) -> int:
    return (int(eoe) << (width + 16)) | (event << width) | payload


def _run(built: simulators.SimBuild, cfg: dict, name: str) -> list[int]:
    run_dir = built.build_dir / f"run-{name}"
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg = {**cfg, "output": str(run_dir / "out.json"), "timeout_cycles": 20 * (cfg["expected"] + 50)}
    (run_dir / "config.json").write_text(json.dumps(cfg))
    simulators.run(built, "neurocal.hw.tb.stage", test_dir=run_dir,
                   extra_env={"NC_TB_CONFIG": str(run_dir / "config.json")})
    return [int(x, 16) for x in json.loads((run_dir / "out.json").read_text())]


@pytest.mark.parametrize(("sim", "words"), [("icarus", 1), ("icarus", 4), ("verilator", 3)])
def test_rx_turns_aer_beats_into_rasters(sim: str, words: int, hw_build_root) -> None:
    n_in, layers = 10, 2
    rng = np.random.default_rng(words)
    spikes = rng.random((4, 6, n_in)) < 0.4
    spikes[2] = False  # an event without spikes
    frames = [[int(w) for w in aer.encode_events(spikes[e : e + 1], first_event=e)] for e in range(len(spikes))]
    frames[1][1:1] = [0xC0000000, int(aer.pack(aer.KIND_SPIKE, 0, n_in))]  # malformed: dropped, nothing else moves
    expected = []
    for e, ev in enumerate(spikes):
        expected += [_token(_raster(t), n_in) for t in ev] + [_token(0, n_in)] * layers
        expected.append(_token(0, n_in, eoe=True, event=e))
    built = simulators.build(sim, "nc_aer_rx", rtl_sources(["nc_aer_rx"]), hw_build_root / f"rx-{sim}-{words}",
                             parameters={"N_IN": n_in, "LAYERS": layers, "WORDS": words})
    got = _run(built, {"source": "axis", "frames": frames, "sink": "tokens", "expected": len(expected),
                       "backpressure": True}, "events")
    assert got == expected


LAYER_CASES = [  # (sim, n_in, n_out, lanes, rows)
    ("icarus", 7, 5, 2, 1),  # one bank, lanes < n_out (3 groups)
    ("icarus", 9, 4, 4, 3),  # a few banks, full lanes
    ("icarus", 6, 5, 3, 6),  # fully parallel banks (rows = n_in)
    ("verilator", 11, 6, 6, 4),
]


@pytest.mark.parametrize(("sim", "n_in", "n_out", "lanes", "rows"), LAYER_CASES)
def test_layer_matches_the_golden_model(sim, n_in, n_out, lanes, rows, hw_build_root) -> None:
    rng = np.random.default_rng(n_in * 100 + rows)
    net = random_network([n_in, n_out], rng, extreme=True, readout="spikes", groups=2)
    spikes = rng.random((3, 8, n_in)) < 0.5
    ref = GoldenBackend().run(net, spikes)
    shape = shape_for(net, lanes=[lanes], rows=[rows])
    project = generate(net, hw_build_root / f"layer-{sim}-{n_in}-{n_out}-{lanes}-{rows}-gen", shape=shape)
    params = {"N_IN": n_in, "N_OUT": n_out, "LANES": lanes, "ROWS": rows, "ACC_W": shape.acc_w[0],
              "U_W": shape.u_w[0], "EMIT_V": 1, "LAYER": 0, "MEM_PREFIX": f'"{project.mem_dir.resolve()}/"'}
    built = simulators.build(sim, "nc_lif_layer", rtl_sources(["nc_lif_update", "nc_lif_layer"]),
                             hw_build_root / f"layer-{sim}-{n_in}-{n_out}-{lanes}-{rows}", parameters=params)
    tokens, expected = [], []
    for e, ev in enumerate(spikes):
        # the layer runs T + 1 ticks: the input's T rasters and one appended empty tick
        tokens += [_token(_raster(t), n_in) for t in ev] + [_token(0, n_in), _token(0, n_in, eoe=True, event=e)]
        expected += [_token(_raster(t), 24 * n_out) for t in ref.output_spikes[e]]
        volts = sum((int(v) & 0xFFFFFF) << (24 * n) for n, v in enumerate(ref.v_final[-1][e]))
        expected.append(_token(volts, 24 * n_out, eoe=True, event=e))
    got = _run(built, {"source": "tokens", "tokens": [format(t, "x") for t in tokens], "sink": "tokens",
                       "expected": len(expected), "backpressure": True}, "events")
    for i, (g, x) in enumerate(zip(got, expected, strict=True)):
        assert g == x, f"token {i}: got {g:#x}, expected {x:#x} (golden)"


@pytest.mark.parametrize(("sim", "n_out"), [("icarus", 3), ("icarus", 1), ("verilator", 5)])
def test_tx_writes_the_output_stream_of_aer(sim: str, n_out: int, hw_build_root) -> None:
    rng = np.random.default_rng(n_out)
    spikes = rng.random((3, 7, n_out)) < 0.4
    spikes[1] = False
    v = rng.integers(-(1 << 23) + 1, 1 << 23, size=(3, n_out))
    tokens = []
    for e in range(len(spikes)):
        tokens += [_token(_raster(t), 24 * n_out) for t in spikes[e]]
        tokens.append(_token(sum((int(x) & 0xFFFFFF) << (24 * n) for n, x in enumerate(v[e])), 24 * n_out,
                             eoe=True, event=e))
    expected = [int(w) for w in aer.encode_output(spikes, v)]
    built = simulators.build(sim, "nc_aer_tx", rtl_sources(["nc_aer_tx"]), hw_build_root / f"tx-{sim}-{n_out}",
                             parameters={"N_OUT": n_out})
    got = _run(built, {"source": "tokens", "tokens": [format(t, "x") for t in tokens], "sink": "axis",
                       "expected": len(expected), "backpressure": True}, "events")
    assert got == expected
