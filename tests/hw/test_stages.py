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
from neurocal.hw.generate import generate, memory_images, shape_for
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


def _rx_stream(rng: np.random.Generator, spikes: np.ndarray, n_in: int, words: int) -> tuple[list, list, int]:
    """The clean AER stream of ``spikes`` with absent words (tkeep 0, random contents) and malformed words of
    every kind mixed in, cut into beats of ``words`` words: (beats, their per-word tkeeps, malformed count).

    Every inserted malformed word must be dropped without moving anything else, so the rasters expected are
    those of the clean stream (aer.decode_events), whatever the beat cut."""
    clean = [int(w) for e in range(len(spikes)) for w in aer.encode_events(spikes[e : e + 1], first_event=e)]
    stream: list[tuple[int, int]] = []  # (word, tkeep)
    bad = 0
    tick = 0  # the tick the next closing marker closes
    for n, word in enumerate(clean):
        kind, _, addr = (int(x) for x in aer.unpack(np.array([word], dtype=np.uint32)))
        if kind != aer.KIND_SPIKE and rng.random() < 0.15:  # a marker with a wrong tick field still closes
            word ^= 1 << (aer.TICK_SHIFT + 8)
            bad += 1
        stream.append((word, 0xF))
        tick = 0 if kind == aer.KIND_END_OF_EVENT else tick + (kind == aer.KIND_END_OF_TICK)
        # nothing after the last EOE: a trailing beat of absent words would open an event of its own
        for _ in range(rng.poisson(0.5) if n + 1 < len(clean) else 0):
            r = rng.random()
            if r < 0.4:  # absent: any contents, markers included
                stream.append((int(rng.integers(0, 1 << 32)), 0))
                continue
            if r < 0.5:
                junk = 0xC0000000 | int(rng.integers(0, 1 << 30))  # reserved kind
            elif r < 0.6:
                junk = int(aer.pack(aer.KIND_SPIKE, tick + 1000, int(rng.integers(0, n_in))))  # wrong tick
            elif r < 0.7:
                junk = int(aer.pack(aer.KIND_SPIKE, tick, int(rng.integers(n_in, 1 << 16))))  # address >= N_IN
            elif r < 0.85:
                if kind != aer.KIND_SPIKE:
                    continue
                junk = int(aer.pack(aer.KIND_SPIKE, tick, int(rng.integers(0, addr + 1))))  # not above the last
            else:  # tkeep neither all set nor clear, any contents
                stream.append((int(rng.choice(clean)), int(rng.integers(1, 15))))
                bad += 1
                continue
            stream.append((junk, 0xF))
            bad += 1
    stream += [(0, 0)] * (-len(stream) % words)
    beats = [stream[i : i + words] for i in range(0, len(stream), words)]
    return [[w for w, _ in b] for b in beats], [[k for _, k in b] for b in beats], bad


def _rx_cycles(frames: list, keeps: list, layers: int) -> int:
    """Cycles from the first beat to the last beat taken, with a free output (the module docstring's rule):
    a beat takes one cycle per marker it holds, at least one; an EOE word closes a segment of the beat and
    is followed by LAYERS + 1 cycles of padding; what follows it in the beat (if any word is present) is
    another segment."""
    cycles, pad = 0, 0
    for words, keep in zip(frames, keeps, strict=True):
        segment = {"markers": 0, "present": False}
        segments = [segment]
        for w, k in zip(words, keep, strict=True):
            kind = w >> aer.KIND_SHIFT
            segment["present"] |= k != 0
            if k == 0xF and kind in (aer.KIND_END_OF_TICK, aer.KIND_END_OF_EVENT):
                segment["markers"] += 1
                if kind == aer.KIND_END_OF_EVENT:
                    segment = {"markers": 0, "present": False}
                    segments.append(segment)
        for i, seg in enumerate(segments):
            if i > 0 and not seg["present"]:
                continue
            cycles += pad + max(1, seg["markers"])
            pad = 0
            if i + 1 < len(segments):  # closed by an EOE: padding before whatever comes next
                pad = layers + 1
    return cycles


# Verilator with 3 words: test_rx_turns_aer_beats_into_rasters
RX_CASES = [("icarus", 1, 10), ("icarus", 5, 37), ("icarus", 16, 37), ("verilator", 16, 37)]


@pytest.mark.parametrize(("sim", "words", "n_in"), RX_CASES)
def test_rx_random_beats_absent_and_malformed_words(sim: str, words: int, n_in: int, hw_build_root) -> None:
    """Random beats: absent words anywhere, markers at every position of a beat, malformed words of every kind;
    the rasters are the clean stream's, every malformed word is counted once, and without back-pressure each
    beat takes the cycles the docstring states; with back-pressure on both sides the results do not change."""
    layers = 2
    built = simulators.build(sim, "nc_aer_rx", rtl_sources(["nc_aer_rx"]),
                             hw_build_root / f"rx-{sim}-{words}-{n_in}",
                             parameters={"N_IN": n_in, "LAYERS": layers, "WORDS": words})
    for backpressure in (False, True):
        rng = np.random.default_rng(words * 1000 + n_in + backpressure)
        spikes = rng.random((5, 7, n_in)) < rng.choice([0.02, 0.1, 0.4], size=(5, 7, 1))
        spikes[1] = False  # an event without spikes
        frames, keeps, bad = _rx_stream(rng, spikes, n_in, words)
        clean = aer.decode_events(aer.encode_events(spikes), n_in)
        expected = []
        for e, ev in enumerate(clean):
            expected += [_token(_raster(t), n_in) for t in ev] + [_token(0, n_in)] * layers
            expected.append(_token(0, n_in, eoe=True, event=e))
        name = f"random-{int(backpressure)}"
        stats_path = built.build_dir / f"run-{name}" / "stats.json"
        # one frame: tvalid stays high from the first beat to the last, so the cycle count is the rx's alone
        got = _run(built, {"source": "axis", "frames": [[w for b in frames for w in b]],
                           "keeps": [[k for b in keeps for k in b]],
                           "sink": "tokens", "expected": len(expected), "backpressure": backpressure,
                           "rx_stats": str(stats_path)}, name)
        for i, (g, x) in enumerate(zip(got, expected, strict=True)):
            assert g == x, f"token {i}: got {g:#x}, expected {x:#x} (clean stream)"
        stats = json.loads(stats_path.read_text())
        assert stats["malformed"] == bad
        assert stats["event_start"] == stats["event_end"] == len(spikes)
        assert stats["beats"] == len(frames)
        if not backpressure:
            assert stats["cycles"] == _rx_cycles(frames, keeps, layers)


def _rx_model(frames: list[list[int]], keeps: list[list[int]], n_in: int, layers: int) -> tuple[list[int], dict]:
    """What nc_aer_rx emits for ``frames`` (each sent with tlast on its last beat), word by word as its
    docstring states: the tokens and the counts of malformed words, broken frames (tlast without an
    end-of-event word) and tick overflows."""
    tokens: list[int] = []
    counts = {"malformed": 0, "framing": 0, "overflow": 0, "events": 0}
    state = {"tick": 0, "raster": 0, "last": -1, "open": False, "number": 0xFFFF}

    def close(number: int) -> None:
        if state["tick"] + layers > 16383:
            counts["overflow"] += 1
        tokens.append(_token(state["raster"], n_in))  # spikes after the last end-of-tick: the first appended tick
        tokens.extend([_token(0, n_in)] * (layers - 1))
        tokens.append(_token(0, n_in, eoe=True, event=number))
        counts["events"] += 1
        state.update(tick=0, raster=0, last=-1, open=False, number=number)

    for words, keep in zip(frames, keeps, strict=True):
        for word, k in zip(words, keep, strict=True):
            if k == 0:
                continue
            state["open"] = True
            kind, tick, addr = word >> 30, word >> 16 & 0x3FFF, word & 0xFFFF
            if k != 0xF or kind == 3:
                counts["malformed"] += 1
            elif kind == aer.KIND_SPIKE:
                if tick == state["tick"] and addr < n_in and addr > state["last"]:
                    state["raster"] |= 1 << addr
                    state["last"] = addr
                else:
                    counts["malformed"] += 1
            else:
                counts["malformed"] += tick != state["tick"]  # a marker with a wrong tick still closes
                if kind == aer.KIND_END_OF_TICK:
                    tokens.append(_token(state["raster"], n_in))
                    state.update(tick=(state["tick"] + 1) & 0x3FFF, raster=0, last=-1)
                else:
                    close(addr)
        if state["open"]:  # tlast without the end-of-event word
            counts["framing"] += 1
            close((state["number"] + 1) & 0xFFFF)
    return tokens, counts


def _framing_frames(rng: np.random.Generator, n_in: int) -> list[list[int]]:
    """Events, one frame each: clean; its end-of-event word lost; an end-of-tick word missing; spikes after
    the last tick (tick field T); clean again; a lost end-of-event word in the last frame of the stream."""
    spikes = rng.random((6, 5, n_in)) < 0.3
    frames = [[int(w) for w in aer.encode_events(spikes[e : e + 1], first_event=e)] for e in range(len(spikes))]
    frames[1].pop()  # the EOE word
    eots = [i for i, w in enumerate(frames[2]) if w >> 30 == aer.KIND_END_OF_TICK]
    del frames[2][eots[2]]
    frames[3][-1:-1] = [int(aer.pack(aer.KIND_SPIKE, 5, a)) for a in (0, 3, n_in - 1)]
    frames[5].pop()
    return frames


@pytest.mark.parametrize(("sim", "words", "n_in"), [("icarus", 5, 37), ("verilator", 16, 37)])
def test_rx_framing_lost_end_of_event_missing_end_of_tick_late_spikes(sim, words, n_in, hw_build_root) -> None:
    """tlast ends an event: a frame whose end-of-event word is lost is closed at its last beat and counted
    (err_framing), and the next event starts clean; a missing end-of-tick word and spikes after the last tick
    follow the docstring's rules; with back-pressure on both sides nothing hangs or changes. (Builds shared with
    test_rx_random_beats_absent_and_malformed_words.)"""
    layers = 2
    built = simulators.build(sim, "nc_aer_rx", rtl_sources(["nc_aer_rx"]),
                             hw_build_root / f"rx-{sim}-{words}-{n_in}",
                             parameters={"N_IN": n_in, "LAYERS": layers, "WORDS": words})
    frames = _framing_frames(np.random.default_rng(words), n_in)
    keeps = [[0xF] * len(f) for f in frames]
    expected, counts = _rx_model(frames, keeps, n_in, layers)
    assert counts["framing"] == 2 and counts["malformed"] > 0 and counts["events"] == len(frames)
    for backpressure in (False, True):
        name = f"framing-{int(backpressure)}"
        stats_path = built.build_dir / f"run-{name}" / "stats.json"
        got = _run(built, {"source": "axis", "frames": frames, "sink": "tokens", "expected": len(expected),
                           "backpressure": backpressure, "rx_stats": str(stats_path)}, name)
        for i, (g, x) in enumerate(zip(got, expected, strict=True)):
            assert g == x, f"token {i}: got {g:#x}, expected {x:#x} (model)"
        stats = json.loads(stats_path.read_text())
        assert {k: stats[k] for k in ("malformed", "framing", "overflow")} == {
            k: counts[k] for k in ("malformed", "framing", "overflow")}
        assert stats["event_start"] == stats["event_end"] == len(frames)


def test_rx_tick_overflow_is_flagged(hw_build_root) -> None:
    """T + LAYERS beyond the 14-bit tick field raises err_overflow once, at the event's end, and the stream
    goes on (Verilator: 16 382 ticks)."""
    n_in, layers, words = 37, 2, 16
    built = simulators.build("verilator", "nc_aer_rx", rtl_sources(["nc_aer_rx"]),
                             hw_build_root / f"rx-verilator-{words}-{n_in}",
                             parameters={"N_IN": n_in, "LAYERS": layers, "WORDS": words})
    long = np.zeros((1, 16382, n_in), dtype=bool)
    long[0, 16381, 5] = True
    frames = [[int(w) for w in aer.encode_events(long)],
              [int(w) for w in aer.encode_events(np.ones((1, 2, n_in), dtype=bool), first_event=1)]]
    expected, counts = _rx_model(frames, [[0xF] * len(f) for f in frames], n_in, layers)
    assert counts["overflow"] == 1
    stats_path = built.build_dir / "run-overflow" / "stats.json"
    got = _run(built, {"source": "axis", "frames": frames, "sink": "tokens", "expected": len(expected),
                       "backpressure": False, "rx_stats": str(stats_path)}, "overflow")
    assert got == expected
    stats = json.loads(stats_path.read_text())
    assert (stats["overflow"], stats["framing"], stats["malformed"]) == (1, 0, 0)


LAYER_CASES = [  # (sim, n_in, n_out, lanes, rows, lif_lanes)
    ("icarus", 7, 5, 2, 1, 1),  # one bank, lanes < n_out (3 groups), 2 LIF steps per group
    ("icarus", 9, 4, 4, 3, 4),  # a few banks, full lanes: one LIF step per tick (waits for the commit)
    ("icarus", 6, 5, 3, 6, 3),  # fully parallel banks (rows = n_in), 2 groups
    ("verilator", 11, 6, 6, 4, 2),  # 3 LIF steps per group
    # 16 or more LIF steps per tick: the state in distributed RAM with live bits (STATE_RAM_MIN)
    ("icarus", 9, 20, 4, 3, 1),  # 5 groups of 4 steps: 20 steps, 15 accumulator words
    ("verilator", 11, 18, 6, 4, 1),  # 3 groups of 6 steps: 18 steps
]


def _layer(sim: str, n_in: int, n_out: int, lanes: int, rows: int, lif_lanes: int, hw_build_root) -> tuple:
    """A random layer, its events, the tokens in and the tokens the golden model expects out, and its build:
    (net, shape, built, tokens, expected)."""
    rng = np.random.default_rng(n_in * 100 + rows)
    net = random_network([n_in, n_out], rng, extreme=True, readout="spikes", groups=2)
    spikes = rng.random((3, 8, n_in)) < 0.5
    ref = GoldenBackend().run(net, spikes)
    shape = shape_for(net, lanes=[lanes], rows=[rows], lif_lanes=[lif_lanes])
    name = f"layer-{sim}-{n_in}-{n_out}-{lanes}-{rows}-{lif_lanes}"
    project = generate(net, hw_build_root / f"{name}-gen", shape=shape)
    params = {"N_IN": n_in, "N_OUT": n_out, "LANES": lanes, "LIF_LANES": lif_lanes, "ROWS": rows,
              "ACC_W": shape.acc_w[0], "U_W": shape.u_w[0], "EMIT_V": 1, "LAYER": 0,
              "MEM_PREFIX": f'"{project.mem_dir.resolve()}/"'}
    built = simulators.build(sim, "nc_lif_layer", rtl_sources(["nc_prio_enc", "nc_lif_update", "nc_lif_layer"]),
                             hw_build_root / name, parameters=params)
    tokens, expected = [], []
    for e, ev in enumerate(spikes):
        # the layer runs T + 1 ticks: the input's T rasters and one appended empty tick
        tokens += [_token(_raster(t), n_in) for t in ev] + [_token(0, n_in), _token(0, n_in, eoe=True, event=e)]
        expected += [_token(_raster(t), 24 * n_out) for t in ref.output_spikes[e]]
        volts = sum((int(v) & 0xFFFFFF) << (24 * n) for n, v in enumerate(ref.v_final[-1][e]))
        expected.append(_token(volts, 24 * n_out, eoe=True, event=e))
    return net, shape, built, tokens, expected


def _check_tokens(got: list[int], expected: list[int]) -> None:
    for i, (g, x) in enumerate(zip(got, expected, strict=True)):
        assert g == x, f"token {i}: got {g:#x}, expected {x:#x} (golden)"


def _layer_cycles(tokens: list[int], n_in: int, rows: int, groups: int, steps: int,
                  first: int) -> tuple[list[int], list[int]]:
    """The handshake cycles of every input and output token by the cycle rule of nc_lif_layer's header,
    with a source that offers each token in the cycle after the previous one was taken (the first at
    ``first``) and a free output."""
    ins, outs = [], []
    offer = first
    take: list[int] = []
    drain: list[int] = []
    start: list[int] = []
    read: list[int] = []
    for tok in tokens:
        if tok >> (n_in + 16):  # end of event
            f = len(take)
            t = max(offer, start[f - 1] + steps + 3, drain[f - 1])
            ins.append(t)
            outs.append(t + 1)
            take, drain, start, read = [], [], [], []
            offer = t + 1
            continue
        k = len(take)
        bits = [(tok >> i) & 1 for i in range(n_in)]
        reads = groups * max(sum(bits[b::rows]) for b in range(rows))
        t = offer
        if k >= 1:
            t = max(t, take[k - 1] + max(read[k - 1], 1))
        if k >= 2:
            t = max(t, start[k - 2] + steps - 1)
        s0 = t + 1
        if k >= 1:
            s0 = max(s0, drain[k - 1], start[k - 1] + max(steps, 4))
        take.append(t)
        read.append(reads)
        drain.append(t + reads + 5 if reads else t + 1)
        start.append(s0)
        ins.append(t)
        outs.append(s0 + steps + 3)
        offer = t + 1
    return ins, sorted(outs)


@pytest.mark.parametrize(("sim", "n_in", "n_out", "lanes", "rows", "lif_lanes"), LAYER_CASES)
def test_layer_matches_the_golden_model(sim, n_in, n_out, lanes, rows, lif_lanes, hw_build_root) -> None:
    """Bit-exact with back-pressure on both sides; without it, every token in and out in the cycle the
    header's cycle rule gives."""
    _, shape, built, tokens, expected = _layer(sim, n_in, n_out, lanes, rows, lif_lanes, hw_build_root)
    got = _run(built, {"source": "tokens", "tokens": [format(t, "x") for t in tokens], "sink": "tokens",
                       "expected": len(expected), "backpressure": True}, "events")
    _check_tokens(got, expected)
    cycles_path = built.build_dir / "run-free" / "cycles.json"
    got = _run(built, {"source": "tokens", "tokens": [format(t, "x") for t in tokens], "sink": "tokens",
                       "expected": len(expected), "backpressure": False, "token_cycles": str(cycles_path)}, "free")
    _check_tokens(got, expected)
    measured = json.loads(cycles_path.read_text())
    ins, outs = _layer_cycles(tokens, n_in, rows, shape.groups(0), shape.lif_steps(0), measured["in"][0])
    assert measured["in"] == ins, "input handshakes differ from the cycle rule"
    assert measured["out"] == outs, "output handshakes differ from the cycle rule"


# builds shared with test_layer_matches_the_golden_model
@pytest.mark.parametrize(("sim", "n_in", "n_out", "lanes", "rows", "lif_lanes"), [LAYER_CASES[0], LAYER_CASES[3]])
def test_layer_reads_back_every_memory_word(sim, n_in, n_out, lanes, rows, lif_lanes, hw_build_root) -> None:
    """Every word of every memory reads back as memory_images wrote it, 3 cycles after mem_re, before and
    after a run of events (which still match the golden model); addresses outside a memory read 0 and pulse
    mem_overflow."""
    net, shape, built, tokens, expected = _layer(sim, n_in, n_out, lanes, rows, lif_lanes, hw_build_root)
    images = {name: [int(x, 16) for x in lines] for name, lines in memory_images(net, shape).items()}
    reads, words = [], []
    for b in range(rows):
        bank = images[f"l00_w{b:03d}.mem"]
        reads += [[0, (b << 20) | w] for w in range(len(bank))]
        words += bank
    reads += [[1, a] for a in range(len(images["l00_p.mem"]))] + [[2, 0]]
    words += images["l00_p.mem"] + images["l00_c.mem"]
    outside = [[0, rows << 20], [0, len(images["l00_w000.mem"])], [1, len(images["l00_p.mem"])], [2, 1], [3, 0]]
    read_path = built.build_dir / "run-reads" / "reads.json"
    got = _run(built, {"source": "tokens", "tokens": [format(t, "x") for t in tokens], "sink": "tokens",
                       "expected": len(expected), "backpressure": True, "reads": reads + outside,
                       "read_output": str(read_path)}, "reads")
    _check_tokens(got, expected)
    result = json.loads(read_path.read_text())
    for when in ("before", "after"):
        for (kind, addr), want, r in zip(reads + outside, words + [0] * len(outside), result[when], strict=True):
            assert (int(r["rdata"], 16), r["overflow"], r["latency"]) == (want, int([kind, addr] in outside), 3), \
                f"read {when} the events of kind {kind} at {addr:#x}: {r}, expected {want:#x}"


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
    built = simulators.build(sim, "nc_aer_tx", rtl_sources(["nc_prio_enc", "nc_aer_tx"]),
                             hw_build_root / f"tx-{sim}-{n_out}", parameters={"N_OUT": n_out})
    got = _run(built, {"source": "tokens", "tokens": [format(t, "x") for t in tokens], "sink": "axis",
                       "expected": len(expected), "backpressure": True}, "events")
    assert got == expected
