"""Bulk co-simulation (file-driven testbench, no Python in the loop) and the rtl-* backends."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurocal.backends import compare_results, validate_result
from neurocal.golden import GoldenBackend
from neurocal.hw.bulk import RtlIcarusBackend, RtlVerilatorBackend, run_stream
from neurocal.hw.cosim import keep_waves
from neurocal.hw.generate import LIF_TICK_MIN, shape_for, shape_for_any
from neurocal.testnets import corner_networks, random_network
from tests.hw.conftest import BUILD_ROOT

pytestmark = pytest.mark.rtl


def _check(net, spikes, result) -> None:
    cmp = compare_results(GoldenBackend().run(net, spikes), result)
    if cmp.first is not None:
        waves = keep_waves(net, spikes[cmp.first.event : cmp.first.event + 1], sim="icarus", build_root=BUILD_ROOT)
        raise AssertionError(f"RTL differs from the golden model: first divergence {cmp.first}; waveform of that "
                             f"event (as event 0): {waves}")


def test_icarus_backend_on_random_and_corner_networks(hw_build_root) -> None:
    backend = RtlIcarusBackend(build_root=hw_build_root)
    rng = np.random.default_rng(11)
    cases = [(random_network([10, 8, 6, 3], rng, extreme=True, readout="spikes", groups=3),
              rng.random((20, 9, 10)) < 0.4)]
    cases += [(net, spikes) for _, net, spikes in corner_networks()]
    for net, spikes in cases:
        result = validate_result(backend.run(net, spikes), net, spikes.shape, backend.name)
        assert result.backend == "rtl-icarus" and len(result.info["cycles"]) == len(spikes)
        _check(net, spikes, result)


def test_verilator_stream_runs_many_events_on_one_build(hw_build_root) -> None:
    rng = np.random.default_rng(12)
    nets = [random_network([24, 16, 8, 2], rng, extreme=bool(k), readout="spikes", groups=4) for k in range(2)]
    shape = shape_for(nets[0]).union(shape_for(nets[1]))
    for net in nets:
        spikes = rng.random((200, 20, 24)) < rng.uniform(0.05, 0.5)
        run = run_stream(net, spikes, sim="verilator", build_root=hw_build_root, shape=shape)
        _check(net, spikes, run.result)
        # back-to-back events overlap across layers: the stream takes fewer cycles than serial events would
        assert run.total_cycles < run.cycles.sum()


@pytest.mark.parametrize("words", [16, 2])
def test_verilator_harness_drives_the_stream_like_the_icarus_testbench(words, hw_build_root) -> None:
    """Under Verilator the stream side of the testbench is C++ (nc_stream_main.cpp), under Icarus it is Verilog: the
    same beats every cycle, so every event's cycle count, the total and the outputs agree exactly, streamed and serial.
    WORDS 16 and 2 cover both kinds of Verilator port (a VlWide tdata with 64-bit tkeep; 64-bit tdata, 8-bit tkeep)."""
    rng = np.random.default_rng(14)
    net = random_network([16, 12, 9, 5], rng, readout="membrane", groups=3)
    spikes = rng.random((8, 15, 16)) < 0.5
    spikes[3] = False  # an empty event
    shape = shape_for_any([16, 12, 9, 5], [4, 12, 2], words=words)
    for serial in (False, True):
        runs = [run_stream(net, spikes, sim=sim, build_root=hw_build_root, shape=shape, serial=serial)
                for sim in ("icarus", "verilator")]
        for run in runs:
            _check(net, spikes, run.result)
        assert runs[0].cycles.tolist() == runs[1].cycles.tolist(), f"serial={serial}"
        assert runs[0].total_cycles == runs[1].total_cycles, f"serial={serial}"


def test_serial_mode_measures_latency(hw_build_root) -> None:
    rng = np.random.default_rng(13)
    net = random_network([12, 6, 3], rng, readout="spikes")
    spikes = np.zeros((3, 10, 12), dtype=bool)
    run = run_stream(net, spikes, sim="icarus", build_root=hw_build_root, serial=True)
    _check(net, spikes, run.result)
    # empty events: 10 end-of-tick words, 2 padded ticks, every layer LIF_TICK_MIN cycles per tick (the LIF
    # pipeline's recurrence) plus the pipeline fill of the stages
    assert np.all(run.cycles == run.cycles[0]) and 12 * LIF_TICK_MIN <= run.cycles[0] < 12 * LIF_TICK_MIN + 30
    assert RtlVerilatorBackend().name == "rtl-verilator"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), extreme=st.booleans(), groups=st.integers(1, 4),
       readout=st.sampled_from(["spikes", "membrane"]), density=st.floats(0.0, 0.9))
def test_hypothesis_networks_on_one_verilator_build(seed, extreme, groups, readout, density, hw_build_root) -> None:
    """Random networks (per-neuron parameters, extreme values) drawn by hypothesis, all on one build whose
    registers hold any network of the shape."""
    rng = np.random.default_rng(seed)
    net = random_network([16, 12, 9, 5], rng, extreme=extreme, readout=readout, groups=groups)
    spikes = rng.random((10, 15, 16)) < density
    run = run_stream(net, spikes, sim="verilator", build_root=hw_build_root,
                     shape=shape_for_any([16, 12, 9, 5], [4, 12, 2]))
    _check(net, spikes, run.result)


@pytest.mark.parametrize("mutation", ["weight", "threshold"])
def test_a_hidden_layer_mutation_is_reported_at_its_layer_tick_and_neuron(mutation, hw_build_root) -> None:
    """The core's memory files hold a network that differs from the golden one in one hidden-layer weight or
    threshold whose effect never reaches the output: the debug output still shows it, at its layer."""
    from tests.hw.mutants import SIZES, check_reported, reference_and_mutants

    net, spikes, mutants = reference_and_mutants(31)
    shape = shape_for_any(SIZES, [4, 7, 3], words=2)
    run = run_stream(mutants[mutation], spikes, sim="icarus", build_root=hw_build_root, shape=shape)
    check_reported(net, mutants[mutation], spikes, run.result)
