"""The accelerator (nc_top) under cocotb against the golden model: random and corner networks,
calorimeter events, back-pressure on both streams, malformed AER words, a stalled consumer, lint."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from neurocal import aer, regmap
from neurocal.backends import compare_results
from neurocal.errors import NeurocalError
from neurocal.golden import GoldenBackend
from neurocal.hw import cosim, simulators
from neurocal.hw.generate import HwConfig, generate, shape_for
from neurocal.hw.regmap import memory_crc
from neurocal.hw.sources import rtl_dir, rtl_sources
from neurocal.intnet import IntNetwork
from neurocal.testnets import corner_networks, random_network
from tests.hw.conftest import BUILD_ROOT

pytestmark = pytest.mark.rtl
ERRORS = regmap.bit("STATUS", "MALFORMED") | regmap.bit("STATUS", "OVERFLOW")


def _agree(net: IntNetwork, spikes: np.ndarray, run: cosim.CosimRun, build_root=None) -> None:
    cmp = compare_results(GoldenBackend().run(net, spikes), run.result)
    if cmp.first is not None:
        waves = cosim.keep_waves(net, spikes[cmp.first.event : cmp.first.event + 1], sim="icarus",
                                 build_root=build_root or BUILD_ROOT)
        raise AssertionError(f"RTL differs from the golden model: first divergence {cmp.first}; waveform of "
                             f"that event (as event 0): {waves}")


def _random_case(seed: int) -> tuple[IntNetwork, np.ndarray, HwConfig]:
    """A random network, input and build: lanes 1..n_out, weight banks 1..n_in, 1..8 AER words per beat."""
    rng = np.random.default_rng(seed)
    sizes = [int(x) for x in rng.integers(1, 13, size=rng.integers(2, 5))]
    net = random_network(sizes, rng, extreme=seed % 2 == 1, readout="spikes" if seed % 3 else "membrane", groups=3)
    spikes = rng.random((3, int(rng.integers(1, 9)), sizes[0])) < rng.uniform(0.1, 0.8)
    lanes = [int(rng.integers(1, n + 1)) for n in sizes[1:]]
    rows = [int(rng.integers(1, n + 1)) for n in sizes[:-1]]
    lif_lanes = [int(rng.choice([f for f in range(1, k + 1) if k % f == 0])) for k in lanes]
    return net, spikes, HwConfig(lanes=lanes, rows=rows, words=int(rng.choice([1, 2, 3, 8])), lif_lanes=lif_lanes)


@pytest.mark.parametrize("seed", range(6))
def test_random_networks_icarus(seed: int, hw_build_root) -> None:
    net, spikes, config = _random_case(seed)
    run = cosim.run_events(net, spikes, sim="icarus", build_root=hw_build_root, config=config,
                           backpressure=seed % 2 == 0)
    _agree(net, spikes, run)
    assert run.registers["events_out"] == len(spikes) and run.registers["status"] & ERRORS == 0
    assert not run.registers["caps"] & regmap.bit("CAPS", "INPUT")  # AER words


@pytest.mark.parametrize("case", range(len(corner_networks())), ids=[c[0] for c in corner_networks()])
def test_corner_networks_icarus(case: int, hw_build_root) -> None:
    _, net, spikes = corner_networks()[case]
    _agree(net, spikes, cosim.run_events(net, spikes, sim="icarus", build_root=hw_build_root, backpressure=True))


def test_calorimeter_events_icarus(hw_build_root) -> None:
    from neurocal.sim.frontend import encode_thresholds
    from neurocal.sim.simulate import simulate

    spikes = encode_thresholds(simulate(["proton", "kaon", "pion"], 6, seed=3).photons)
    spikes = spikes[spikes.any(axis=(1, 2))][:3]  # events that light the front end
    assert len(spikes) == 3 and spikes.sum() > 1000
    net = random_network([400, 50, 30, 1], np.random.default_rng(5))
    # Icarus on its narrow default shape (2 words, 2 banks): the board's 16 words and 31 banks took minutes
    from neurocal.hw.bulk import ICARUS_DEFAULTS

    run = cosim.run_events(net, spikes, sim="icarus", build_root=hw_build_root, latency=True,
                           config=HwConfig(**ICARUS_DEFAULTS))
    _agree(net, spikes, run)
    # latency mode: one count per event; every input beat took a cycle, every tick a cycle in each layer
    beats = -(-(spikes.sum(axis=(1, 2)) + spikes.shape[1] + 1) // run.shape.words)
    assert len(run.cycles) == 3 and np.all(run.cycles >= np.maximum(beats, spikes.shape[1] + net.n_layers))


def test_random_networks_share_one_verilator_build(hw_build_root) -> None:
    rng = np.random.default_rng(77)
    nets = [random_network([16, 12, 9, 5], rng, extreme=bool(k % 2), readout="spikes", groups=4) for k in range(3)]
    shape = shape_for(nets[0], lanes=[4, 12, 2], rows=[3, 5, 9], words=4)
    for other in nets[1:]:
        shape = shape.union(shape_for(other, lanes=[4, 12, 2], rows=[3, 5, 9], words=4))
    for k, net in enumerate(nets):
        spikes = rng.random((4, 12, 16)) < 0.4
        run = cosim.run_events(net, spikes, sim="verilator", build_root=hw_build_root, shape=shape,
                               backpressure=k != 1)
        _agree(net, spikes, run)


def test_malformed_words_are_dropped_counted_and_the_stream_recovers(hw_build_root) -> None:
    rng = np.random.default_rng(3)
    net = random_network([6, 5, 4], rng, readout="spikes")
    spikes = rng.random((3, 5, 6)) < 0.5
    spikes[1, 0, [1, 3]] = True
    words = list(aer.encode_events(spikes))
    eot = [i for i, w in enumerate(words) if w >> aer.KIND_SHIFT == aer.KIND_END_OF_TICK]
    at = eot[5] + 1  # start of event 1, tick 0: its first spike is channel 1
    bad = [
        int(aer.pack(aer.KIND_SPIKE, 0, 6)),  # address beyond the 6 channels
        0xC0000000,  # reserved kind
        int(aer.pack(aer.KIND_SPIKE, 3, 0)),  # tick 3 inside tick 0
    ]
    words[at:at] = bad
    words.insert(at + len(bad) + 1, words[at + len(bad)])  # channel 1 twice: not ascending
    data, _ = cosim.run_words(net, np.array(words, dtype=np.uint32), sim="icarus", build_root=hw_build_root,
                              expect_errors=True)
    assert data["malformed"] == 4 and data["status"] & regmap.bit("STATUS", "MALFORMED")
    result = cosim.decode_result(net, data["words"], spikes.shape, "rtl-icarus")
    cmp = compare_results(GoldenBackend().run(net, spikes), result)
    assert cmp.first is None, f"after dropping the malformed words: {cmp.first}"


def test_a_network_loaded_over_axi_lite_replaces_the_generated_one(hw_build_root) -> None:
    rng = np.random.default_rng(21)
    built_for = random_network([8, 6, 3], rng, readout="spikes")
    loaded = random_network([8, 6, 3], rng, extreme=True, readout="spikes", groups=3)
    shape = shape_for(built_for, lanes=[4, 3], rows=[3, 2]).union(shape_for(loaded, lanes=[4, 3], rows=[3, 2]))
    spikes = rng.random((3, 7, 8)) < 0.5
    data, _ = cosim.run_words(built_for, aer.encode_events(spikes), sim="icarus", build_root=hw_build_root,
                              shape=shape, load=loaded, backpressure=True, crc=True)
    result = cosim.decode_result(loaded, data["words"], spikes.shape, "rtl-icarus")
    cmp = compare_results(GoldenBackend().run(loaded, spikes), result)
    assert cmp.first is None, f"network loaded over AXI4-Lite: {cmp.first}"
    assert compare_results(GoldenBackend().run(built_for, spikes), result).n_mismatched > 0  # really replaced
    # the core's own CRC says which network it holds
    assert data["crc"] == memory_crc(loaded, shape) != memory_crc(built_for, shape)


def test_a_stalled_consumer_is_reported_not_hung(hw_build_root) -> None:
    rng = np.random.default_rng(4)
    net = random_network([4, 3], rng)
    with pytest.raises(NeurocalError, match="stalled stream"):
        cosim.run_words(net, aer.encode_events(rng.random((2, 3, 4)) < 0.5), sim="icarus",
                        build_root=hw_build_root, stall_output=True)


def test_a_missing_simulator_is_one_clear_line(monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(NeurocalError, match="apt-get install iverilog"):
        simulators.check_simulator("icarus")
    with pytest.raises(NeurocalError, match="unknown"):
        simulators.check_simulator("modelsim")


@pytest.mark.parametrize(("lanes", "writable", "rows", "words", "debug", "line_k"),
                         [(1, True, 1, 1, True, 0), (None, True, None, 16, False, 0), (3, False, [4, 3], 3, True, 0),
                          (2, True, 3, 1, True, 4), (None, False, None, 16, False, 25)])
def test_rtl_lints_clean_and_is_verilog_2005(lanes, writable, rows, words, debug, line_k, tmp_path, rng) -> None:
    """Both inputs: AER words (line_k 0) and the detector lines."""
    net = random_network([9, 7, 3], rng)
    lines = {"input": "lines", "line_k": line_k, "line_ticks": 4 * line_k} if line_k else {}
    project = generate(net, tmp_path, HwConfig(lanes=lanes, writable=writable, rows=rows, words=words, debug=debug,
                                               **lines))
    vbin = simulators._verilator_bin()
    with simulators.simulator_env():
        lint = subprocess.run(
            [str(vbin / "verilator"), "--lint-only", "-Wall", f"-I{project.include_dir}", f"-I{rtl_dir()}",
             "--top-module", "nc_top", *map(str, rtl_sources())], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stderr
    if shutil.which("iverilog"):
        comp = subprocess.run(["iverilog", "-g2005", "-o", str(tmp_path / "a.vvp"), f"-I{project.include_dir}",
                               f"-I{rtl_dir()}", "-s", "nc_top", *map(str, rtl_sources())],
                              capture_output=True, text=True, check=False)
        assert comp.returncode == 0, comp.stderr


def test_a_hidden_layer_mutation_is_reported_under_cocotb(hw_build_root) -> None:
    """The cocotb testbench records the debug output too: a threshold mutation that never reaches the output
    is reported at its hidden layer, tick and neuron (the bulk harnesses: test_bulk)."""
    from tests.hw.mutants import check_reported, reference_and_mutants

    net, spikes, mutants = reference_and_mutants(32, n_events=2)
    run = cosim.run_events(mutants["threshold"], spikes, sim="icarus", build_root=hw_build_root,
                           config=HwConfig(words=2), backpressure=True)
    check_reported(net, mutants["threshold"], spikes, run.result)


def test_a_lost_end_of_event_word_is_closed_at_tlast_and_counted(hw_build_root) -> None:
    """Event 1 loses its end-of-event word; its frame still ends with tlast: the core closes it there (numbered
    after event 0), counts it as one malformed word, and event 2 is not merged into it. Every event's ticks
    arrived, so every layer of all three matches the golden model. Back-pressure on both streams."""
    rng = np.random.default_rng(8)
    net = random_network([7, 6, 4], rng, readout="spikes")
    spikes = rng.random((3, 6, 7)) < 0.4
    frames = [list(aer.encode_events(spikes[e : e + 1], first_event=e)) for e in range(3)]
    frames[1].pop()
    data, shape = cosim.run_words(net, np.concatenate(frames).astype(np.uint32), sim="icarus",
                                  build_root=hw_build_root, config=HwConfig(words=2), backpressure=True,
                                  expect_errors=True, frame_lengths=[len(f) for f in frames])
    assert data["malformed"] == 1 and data["status"] & 0b010 and data["events_in"] == 3
    layers = cosim.decode_layers(net, shape, cosim.parse_layer_records(data["layers"]), 3, spikes.shape[1])
    result = cosim.decode_result(net, data["words"], spikes.shape, "rtl-icarus", layer_spikes=layers)
    assert layers[0] is not None
    cmp = compare_results(GoldenBackend().run(net, spikes), result)
    assert cmp.first is None, f"after the lost end-of-event word: {cmp.first}"


def _packets(words: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    return np.split(np.asarray(words, dtype=np.uint32), np.cumsum(lengths)[:-1])


def test_the_output_packet_ends_where_the_input_frame_ends(hw_build_root) -> None:
    """Output tlast follows input tlast: a frame (one DMA send) of k events comes back as one packet of their k
    answers, under back-pressure on both streams; batches of 1 and of many. Then the same events with lost
    end-of-event words: inside a batch (that event merges into the next, which closes it) and at a batch's end
    (tlast closes it): still one packet per frame, and every event the loss did not touch is unchanged."""
    rng = np.random.default_rng(18)
    net = random_network([7, 6, 4], rng, readout="spikes")
    spikes = rng.random((8, 6, 7)) < 0.4
    per_event = [list(aer.encode_events(spikes[e : e + 1], first_event=e)) for e in range(8)]

    def frames_of(batches: list[list[int]]) -> list[list[int]]:
        return [[w for e in batch for w in per_event[e]] for batch in batches]

    clean = frames_of([[0], [1, 2, 3, 4], [5, 6, 7]])
    data, _ = cosim.run_words(net, np.concatenate(clean).astype(np.uint32), sim="icarus", build_root=hw_build_root,
                              config=HwConfig(words=2), backpressure=True, frame_lengths=[len(f) for f in clean])
    result = cosim.decode_result(net, data["words"], spikes.shape, "rtl-icarus")
    cmp = compare_results(GoldenBackend().run(net, spikes), result)
    assert cmp.first is None, f"batched: {cmp.first}"
    ends = np.flatnonzero((data["words"] >> aer.KIND_SHIFT) == aer.KIND_END_OF_EVENT) + 1
    assert data["packets"].tolist() == np.diff(ends[[0, 4, 7]], prepend=0).tolist()  # batches end at events 0, 4, 7
    answer = np.split(data["words"], ends[:-1])  # each event's output words

    per_event[1].pop()  # inside the first batch: event 1 runs on into event 2, whose end-of-event word closes both
    per_event[4].pop()  # the last event of the second batch: tlast closes it
    lossy = frames_of([[0, 1, 2], [3, 4], [5, 6, 7]])
    data, _ = cosim.run_words(net, np.concatenate(lossy).astype(np.uint32), sim="icarus", build_root=hw_build_root,
                              config=HwConfig(words=2), backpressure=True, expect_errors=True,
                              frame_lengths=[len(f) for f in lossy])
    assert int(data["events_in"]) == int(data["events_out"]) == 7 and len(data["packets"]) == 3
    first, second, third = _packets(data["words"], data["packets"])
    assert np.array_equal(first[: len(answer[0])], answer[0])
    assert np.array_equal(second, np.concatenate(answer[3:5]))  # every tick of event 4 arrived: it is exact
    assert np.array_equal(third, np.concatenate(answer[5:8]))


def test_a_cocotb_verilator_build_in_a_folder_with_a_space_is_one_clear_line(tmp_path) -> None:
    """cocotb's Verilator flow runs make in the build folder, which GNU make cannot take with a space: refused
    before any work, naming the fix (the bulk path builds elsewhere instead: test_rtl_cli)."""
    with pytest.raises(NeurocalError, match=r"Verilator's make cannot build .* \(--build-root\)$"):
        simulators.build("verilator", "nc_top", rtl_sources(), tmp_path / "my build")
    assert not (tmp_path / "my build").exists()
