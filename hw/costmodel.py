"""Cycle model of the accelerator: cycles per event from the spike rasters, without a simulator.

The RTL's cycle count is a deterministic function of the rasters each stage sees and of the build's
shape, so this model reproduces it **exactly** (a test runs both on the same events). It is a
simulation of the control path only: per clock, each stage decides from its registers whether it
takes a token, how long the token keeps it busy and when it hands the next one on — the datapath
(weights, voltages) never enters. A stage's decisions depend only on registered state (every FIFO's
ready and valid are registers), so the stages are evaluated in any order within a cycle.

Stages and their rules (the RTL module headers state the same):

* input, ``nc_aer_rx``: the harness packs an event's AER words into beats of up to ``words`` words (an
  event starts a new beat; the beat ends at the end-of-event word). A beat with ``k`` markers (end of
  tick or end of event) takes ``max(1, k)`` cycles: cycle ``c`` takes the words up to marker ``c`` and
  the following tick's spikes. A cycle that ends a tick needs the output register free (``!m_valid ||
  m_ready``) and emits the tick's raster; the end-of-event word starts ``L`` padding rasters and the
  end-of-event token, one per cycle while the output is free; no input word is taken meanwhile.
* input, ``nc_line_rx`` (a build with the detector input): a trigger opens a window of ``T`` ticks and
  captures ``K`` ticks per cycle from that cycle on (the lines cannot be stalled); raster ``j`` can leave
  from the cycle after its beat was captured, one per cycle while the output register is free, then ``L``
  padding rasters and the end-of-event token. A trigger is taken when no window is held.
* layer ``l``, ``nc_lif_layer``: a raster with ``s_b`` spikes in bank ``b`` (input ``i`` in bank
  ``i mod rows``) keeps the synapse busy ``R = G · max_b s_b`` cycles (``G = ceil(n_out / lanes)``
  groups); its sums reach the accumulators 5 cycles after each read (address, read, middle-of-tree, tree and
  accumulator registers). The update of a tick is ``STEPS = G · lanes / lif_lanes`` steps, one per cycle, through
  the four-stage LIF pipeline (operand registers, DSP registers, wrap and sum registers, commit); it starts once
  its raster is taken, the previous tick has issued its steps and its first step has left stages 0 to 2
  (binding with fewer than 4 steps), and the raster before it is fully accumulated; the tick's raster leaves
  when its last step commits, which waits for a free output register (the pipeline stalls meanwhile). The
  next raster is taken in the synapse's last read cycle (or when idle) once the update two ticks back has
  issued its last step (three accumulator buffers); the end-of-event token when everything is drained and
  the output is free. The exact rule is in ``nc_lif_layer.v``'s header.
* FIFOs (``nc_fifo``, ``2^fifo_log2`` tokens): a token written in cycle ``n`` can be read in ``n + 1``;
  ``s_ready = !full`` and ``m_valid = !empty`` are registers.
* output, ``nc_aer_tx``: a raster with ``s`` spikes sends one word per cycle; the next raster is taken
  when no spike is pending or in the cycle its last spike leaves; the end-of-event token sends
  ``n_out`` voltage words and the end-of-event word (``tlast``).

An event's cycle count is the RTL's ``event_cycles``: from the cycle its first input word is taken (with the
line input: its trigger) to the cycle its end-of-event word is on ``m_axis``, both included. With ``serial``
the next event's first beat (trigger) is offered one cycle after the previous event's last word was seen (the
bulk harness; the detector testbench waits longer, which changes no event's count: the core is idle by then);
otherwise beats follow each other back to back (a trigger comes as soon as the line receiver is free), and
``total_cycles`` counts the harness's cycles up to the last word.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurocal.backends import BackendResult
from neurocal.errors import NeurocalError
from neurocal.hw.generate import HwShape

EOT, EOE, NONE = 1, 2, 0  # what one cycle of the input stage closes
END = -1  # the end-of-event token (a tick token is its tick index)


@dataclass(frozen=True)
class CyclePrediction:
    """Predicted cycles of a run: per event (first input word → end-of-event word out) and in total."""

    cycles: np.ndarray  # (events,) int64
    total_cycles: int
    serial: bool


def bank_reads(raster: np.ndarray, rows: int, groups: int) -> np.ndarray:
    """Synapse cycles per raster: ``groups · max_b (spikes in bank b)``, input ``i`` in bank ``i mod rows``.

    ``raster``: bool ``(..., n_in)``; returns int ``(...)``."""
    raster = np.asarray(raster, dtype=bool)
    n_in = raster.shape[-1]
    depth = -(-n_in // rows)
    pad = depth * rows - n_in
    if pad:
        raster = np.concatenate([raster, np.zeros((*raster.shape[:-1], pad), dtype=bool)], axis=-1)
    per_bank = raster.reshape(*raster.shape[:-1], depth, rows).sum(axis=-2)
    return per_bank.max(axis=-1).astype(np.int64) * groups


def input_steps(spikes_per_tick: np.ndarray, words: int) -> list[list[int]]:
    """One event's input beats as the input stage's cycles: per beat the kinds it closes (EOT, EOE, NONE).

    ``spikes_per_tick``: spikes of each tick (the event's AER words are, per tick, its spikes and an
    end-of-tick word, then the end-of-event word)."""
    counts = np.asarray(spikes_per_tick, dtype=np.int64)
    marker_pos = np.cumsum(counts + 1) - 1  # end-of-tick words
    n_words = int(marker_pos[-1]) + 2 if len(counts) else 1
    beats: list[list[int]] = [[] for _ in range(-(-n_words // words))]
    for pos in marker_pos.tolist():
        beats[pos // words].append(EOT)
    beats[(n_words - 1) // words].append(EOE)
    return [b if b else [NONE] for b in beats]


class _Fifo:
    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.items: deque = deque()

    @property
    def ready(self) -> bool:  # s_ready, from registers
        return len(self.items) < self.depth

    @property
    def valid(self) -> bool:  # m_valid, from registers
        return bool(self.items)


class _Rx:
    """nc_aer_rx: input beats → rasters (token = tick index) and the end-of-event token (END)."""

    def __init__(self, layers: int) -> None:
        self.layers = layers
        self.m_valid = False
        self.m_token = END
        self.pad = 0
        self.eoe_pending = False
        self.in_event = False
        self.step = 0  # cycle within the current beat
        self.tick = 0

    def plan(self, beat: list[int] | None, out_ready: bool) -> tuple[bool, bool, bool]:
        """(commit, beat done, event start) this cycle, from registers and the offered beat."""
        out_free = not self.m_valid or out_ready
        padding = self.pad != 0 or self.eoe_pending
        if beat is None or padding:
            return False, False, False
        kind = beat[self.step]
        commit = kind != EOT or out_free
        return commit, commit and self.step == len(beat) - 1, commit and not self.in_event

    def update(self, beat: list[int] | None, commit: bool, out_ready: bool) -> None:
        out_free = not self.m_valid or out_ready
        padding = self.pad != 0 or self.eoe_pending
        if out_ready:
            self.m_valid = False
        if commit:
            assert beat is not None
            self.in_event = True
            kind = beat[self.step]
            self.step = 0 if self.step == len(beat) - 1 else self.step + 1
            if kind == EOT:
                self.m_valid, self.m_token = True, self.tick
                self.tick += 1
            elif kind == EOE:
                self.pad = self.layers
        elif padding and out_free:
            self.m_valid = True
            if self.pad != 0:
                self.m_token = self.tick
                self.tick += 1
                self.eoe_pending = self.pad == 1
                self.pad -= 1
            else:
                self.m_token = END
                self.eoe_pending = False
                self.tick = 0
                self.in_event = False


class _LineRx:
    """nc_line_rx: a trigger's window of ``ticks`` rasters, captured ``k`` per cycle → rasters (token = tick
    index), ``layers`` padding rasters and the end-of-event token (END)."""

    def __init__(self, layers: int, ticks: int, k: int) -> None:
        self.layers, self.ticks, self.k = layers, ticks, k
        self.open = False
        self.captured = 0
        self.sent = 0
        self.m_valid = False
        self.m_token = END

    def update(self, trigger: bool, out_ready: bool) -> None:
        out_free = not self.m_valid or out_ready
        start = trigger and not self.open
        capturing = self.open and self.captured < self.ticks
        can_send = self.open and (self.sent >= self.ticks or self.sent < self.captured)
        if out_ready:
            self.m_valid = False
        if start or capturing:
            self.captured = (0 if start else self.captured) + self.k
        if can_send and out_free:
            self.m_valid = True
            if self.sent == self.ticks + self.layers:
                self.m_token = END
                self.open = False
            else:
                self.m_token = self.sent
                self.sent += 1
        if start:
            self.open = True
            self.sent = 0


class _Layer:
    """nc_lif_layer: tokens (tick index k, or END) → the same tokens one layer on.

    The registers of the RTL's control, one to one: the synapse (reads left, then the address, read, middle
    and tree registers S, R, M and T, each with the accumulator buffer its words go to), the LIF update (ticks taken
    and not started, the step being issued, stages 0 to 2) and the output register."""

    def __init__(self, groups: int, steps: int) -> None:
        self.groups = groups
        self.steps = steps
        self.reads_left = 0
        self.a_b = 0
        self.a_b_next = 0
        self.sa_any, self.sa_b = False, 0
        self.rd_any, self.rd_b = False, 0
        self.md_any, self.md_b = False, 0
        self.tr_any, self.tr_b = False, 0
        self.todo: deque[int] = deque()  # tokens of ticks taken whose update has not started
        self.upd_on = False
        self.upd_j = 0
        self.upd_b = 0
        self.upd_b_next = 2
        self.upd_token = END
        self.s0_valid, self.s0_first, self.s0_last, self.s0_token = False, False, False, END
        self.s1_valid, self.s1_first, self.s1_last, self.s1_token = False, False, False, END
        self.s2_valid, self.s2_first, self.s2_last, self.s2_token = False, False, False, END
        self.m_valid = False
        self.m_token = END

    def _issue(self, out_free: bool) -> tuple[bool, bool, bool, bool]:
        """(stall, start, issue, issue of the tick's last step) this cycle."""
        stall = self.s2_valid and self.s2_last and not out_free
        b = self.upd_b_next
        drained = not ((self.reads_left and self.a_b == b) or (self.sa_any and self.sa_b == b)
                       or (self.rd_any and self.rd_b == b)
                       or (self.md_any and self.md_b == b) or (self.tr_any and self.tr_b == b))
        first_busy = ((self.s0_valid and self.s0_first) or (self.s1_valid and self.s1_first)
                      or (self.s2_valid and self.s2_first))
        start = not self.upd_on and bool(self.todo) and drained and not first_busy and not stall
        issue = (self.upd_on and not stall) or start
        last = (self.upd_j if self.upd_on else 0) == self.steps - 1
        return stall, start, issue, issue and last

    def plan(self, token_valid: bool, token: int, out_ready: bool) -> tuple[bool, bool]:
        """(take raster, take end of event)."""
        out_free = not self.m_valid or out_ready
        _, _, _, finishing = self._issue(out_free)
        a_free = self.reads_left <= 1
        open_ticks = len(self.todo) + int(self.upd_on) - int(finishing)
        take_raster = token_valid and token != END and a_free and open_ticks <= 1
        take_eoe = (token_valid and token == END and not self.reads_left and not self.sa_any and not self.rd_any
                    and not self.md_any
                    and not self.tr_any and not self.todo and not self.upd_on and not self.s0_valid
                    and not self.s1_valid and not self.s2_valid and out_free)
        return take_raster, take_eoe

    def update(self, take_raster: bool, take_eoe: bool, token: int, reads: int, out_ready: bool) -> None:
        out_free = not self.m_valid or out_ready
        stall, start, issue, _ = self._issue(out_free)
        if out_ready:
            self.m_valid = False
        self.tr_any, self.tr_b = self.md_any, self.md_b
        self.md_any, self.md_b = self.rd_any, self.rd_b
        self.rd_any, self.rd_b = self.sa_any, self.sa_b
        self.sa_any, self.sa_b = self.reads_left != 0, self.a_b
        if self.reads_left:
            self.reads_left -= 1
        j = self.upd_j if self.upd_on else 0
        if start:
            self.upd_token = self.todo.popleft()
            self.upd_b = self.upd_b_next
            self.upd_b_next = (self.upd_b_next + 1) % 3
        if self.s2_valid and not stall and self.s2_last:  # the commit of a tick's last step
            self.m_valid, self.m_token = True, self.s2_token
        if not stall:
            self.s2_valid, self.s2_first, self.s2_last, self.s2_token = (self.s1_valid, self.s1_first, self.s1_last,
                                                                         self.s1_token)
            self.s1_valid, self.s1_first, self.s1_last, self.s1_token = (self.s0_valid, self.s0_first, self.s0_last,
                                                                         self.s0_token)
            self.s0_valid, self.s0_first, self.s0_last, self.s0_token = (issue, j == 0, j == self.steps - 1,
                                                                         self.upd_token)
        if issue:
            self.upd_on = j != self.steps - 1
            self.upd_j = j + 1
        if take_raster:
            self.reads_left = reads
            self.a_b = self.a_b_next
            self.a_b_next = (self.a_b_next + 1) % 3
            self.todo.append(token)
        if take_eoe:
            self.m_valid, self.m_token = True, END
            self.a_b_next, self.upd_b_next = 0, 2


class _Tx:
    """nc_aer_tx: output rasters → spike words, then n_out voltage words and the end-of-event word."""

    SPIKES, VOLTS, END = 0, 1, 2

    def __init__(self, n_out: int) -> None:
        self.n_out = n_out
        self.mode = self.SPIKES
        self.pending = 0  # spikes of the current raster still to send
        self.n = 0
        self.m_valid = False
        self.m_last = False

    def can_take(self) -> bool:
        return self.mode == self.SPIKES and self.pending <= 1  # m_axis_tready is 1 (the harness)

    def update(self, take: bool, token: int, spikes: int) -> None:
        mode = self.mode  # the registered mode: the branches below read it, as the RTL's clocked block does
        self.m_valid = False
        if mode == self.SPIKES and self.pending:
            self.m_valid, self.m_last = True, False
            self.pending -= 1
        if take:
            if token == END:
                self.mode, self.n = self.VOLTS, 0
            else:
                self.pending = spikes
        if mode == self.VOLTS:
            self.m_valid, self.m_last = True, False
            self.n += 1
            if self.n == self.n_out:
                self.mode = self.END
        if mode == self.END:
            self.m_valid, self.m_last = True, True
            self.mode = self.SPIKES


def predict_cycles(shape: HwShape, rasters: Sequence[np.ndarray], output_spikes: np.ndarray, *,
                   serial: bool = True, max_cycles: int | None = None) -> CyclePrediction:
    """Cycles of a run of the bulk harness on a build of ``shape``.

    ``rasters[l]``: bool ``(events, ticks_l, sizes[l])``, what layer ``l`` is handed per tick: layer 0 the
    input spikes (T ticks; the input stage appends L empty ticks), layer ``l > 0`` the spikes of layer
    ``l − 1`` (T + L ticks, as :class:`~neurocal.backends.BackendResult.layer_spikes`).
    ``output_spikes``: bool ``(events, T + L, n_out)``, the output layer's spikes."""
    n_layers = shape.n_layers
    if len(rasters) != n_layers:
        raise NeurocalError(f"cycle model: {len(rasters)} raster sets for a network of {n_layers} layers")
    n_events = len(output_spikes)
    depth = 1 << shape.fifo_log2
    groups = [shape.groups(i) for i in range(n_layers)]
    reads = [bank_reads(r, shape.rows[i], groups[i]) for i, r in enumerate(rasters)]
    counts0 = np.asarray(rasters[0], dtype=bool).sum(axis=-1)
    out_counts = np.asarray(output_spikes, dtype=bool).sum(axis=-1)
    lines = shape.input == "lines"
    beats = [] if lines else [b for e in range(n_events) for b in input_steps(counts0[e], shape.words)]

    rx: _Rx | _LineRx = _LineRx(n_layers, counts0.shape[1], shape.line_k) if lines else _Rx(n_layers)
    next_event = 0  # the line input: events triggered so far
    layers = [_Layer(g, shape.lif_steps(i)) for i, g in enumerate(groups)]
    fifos = [_Fifo(depth) for _ in range(n_layers + 1)]
    tx = _Tx(shape.sizes[-1])
    # which event each stage's tokens belong to: stages see events in order
    layer_event = [0] * n_layers
    tx_event = 0
    starts: deque[int] = deque()
    cycles = np.zeros(n_events, dtype=np.int64)
    next_beat, offered = 0, False  # the harness: index of the beat on s_axis, and whether it is valid
    events_in = events_out = 0
    limit = max_cycles if max_cycles is not None else 64 * (len(beats) + n_events * 4 * max(
        (r.shape[1] for r in rasters), default=1) * (max(groups) + 2) * (n_layers + 1)) + 10_000
    cycle = 0
    while True:
        # ---- combinational: every decision from registered state
        beat = beats[next_beat] if offered else None
        if isinstance(rx, _LineRx):
            commit = beat_done = False
            trigger = event_start = (next_event < n_events and not rx.open
                                     and (not serial or events_out == events_in))
        else:
            trigger = False
            commit, beat_done, event_start = rx.plan(beat, fifos[0].ready)
        takes = []
        for i, layer in enumerate(layers):
            fifo = fifos[i]
            token = fifo.items[0] if fifo.valid else END
            # ticks past the input's last (the input stage's padding) carry no spikes
            r = int(reads[i][layer_event[i], token]) if 0 <= token < reads[i].shape[1] else 0
            takes.append((*layer.plan(fifo.valid, token, fifos[i + 1].ready), token, r))
        tx_fifo = fifos[n_layers]
        tx_token = tx_fifo.items[0] if tx_fifo.valid else END
        tx_take = tx_fifo.valid and tx.can_take()
        tx_spikes = int(out_counts[tx_event, tx_token]) if tx_take and tx_token != END else 0
        out_last = tx.m_valid and tx.m_last
        if event_start:
            starts.append(cycle)
        if out_last:
            if not starts:
                raise NeurocalError("cycle model: an event left before it entered (model bug)")
            cycles[events_out] = cycle - starts.popleft() + 1
        # ---- the harness (nc_stream_main.cpp), on the values before the edge
        pending = offered
        if lines and trigger:
            events_in += 1
            next_event += 1
        if offered and beat_done:
            if beats[next_beat][-1] == EOE:
                events_in += 1
            pending = False
            next_beat += 1
        load = not pending and next_beat < len(beats) and (not serial or events_out == events_in)
        offered = pending or load
        if out_last:
            events_out += 1
        if (next_beat == len(beats) and not offered and events_out == events_in and events_out == n_events
                and next_event == (n_events if lines else 0)):
            break
        if cycle >= limit:
            raise NeurocalError(f"cycle model: no progress after {limit} cycles (model bug or a stalled shape)")
        # ---- the edge: FIFO handshakes and every stage's registers
        pushes = [rx.m_valid and fifos[0].ready] + [layer.m_valid and fifos[i + 1].ready
                                                    for i, layer in enumerate(layers)]
        pushed = [rx.m_token] + [layer.m_token for layer in layers]
        if isinstance(rx, _LineRx):
            rx.update(trigger, fifos[0].ready)
        else:
            rx.update(beat, commit, fifos[0].ready)
        for i, layer in enumerate(layers):
            take_raster, take_eoe, token, r = takes[i]
            out_ready = fifos[i + 1].ready
            layer.update(take_raster, take_eoe, token, r, out_ready)
            if take_raster or take_eoe:
                fifos[i].items.popleft()
                if take_eoe:
                    layer_event[i] += 1
        tx.update(tx_take, tx_token, tx_spikes)
        if tx_take:
            tx_fifo.items.popleft()
            if tx_token == END:
                tx_event += 1
        for fifo, push, token in zip(fifos, pushes, pushed, strict=True):
            if push:
                fifo.items.append(token)
        cycle += 1
    return CyclePrediction(cycles=cycles, total_cycles=cycle, serial=serial)


def predict_run(shape: HwShape, spikes: np.ndarray, reference: BackendResult, *, serial: bool = True
                ) -> CyclePrediction:
    """:func:`predict_cycles` for input ``spikes`` ``(events, T, n_in)`` and the golden model's result on them
    (its ``layer_spikes`` are the rasters every later stage sees)."""
    layer_spikes = [np.asarray(s, dtype=bool) for s in reference.layer_spikes]
    if len(layer_spikes) != shape.n_layers or any(s is None for s in reference.layer_spikes):
        raise NeurocalError("cycle model: the reference result must hold every layer's spikes (the golden model's)")
    return predict_cycles(shape, [np.asarray(spikes, dtype=bool), *layer_spikes[:-1]], layer_spikes[-1],
                          serial=serial)


class CycleCostModel:
    """The cycle model as a :class:`neurocal.costmodels.CostModel` (entry point ``cycles``): whether a network
    of given sizes fits the profile's block RAM and the word formats (:func:`~neurocal.hw.generate.check_fits`), and
    its latency per event on the bulk harness (serial events, the profile's clock) and its synaptic operations
    per event."""

    name = "cycles"
    objectives = ("cycles_per_event", "latency_us", "synops_per_event")

    def _shape(self, sizes: tuple[int, ...], hardware: Any, net: Any = None) -> HwShape:
        from neurocal.hw.generate import DEFAULT_WORDS, shape_for, shape_for_any

        words = hardware.words or DEFAULT_WORDS
        if net is not None:
            return shape_for(net, hardware.lanes, rows=hardware.rows, words=words)
        lanes = hardware.lanes or tuple(min(n, 128) for n in sizes[1:])
        return shape_for_any(sizes, lanes, rows=hardware.rows, words=words)

    def check(self, sizes: tuple[int, ...], hardware: Any) -> str | None:
        from neurocal.hw.generate import HwConfig, check_fits
        from neurocal.profiles import profile

        part = profile(hardware.profile)
        bram_bits = int(part.limit("BRAM36")) * 36 * 1024
        try:
            check_fits(self._shape(tuple(sizes), hardware), HwConfig(weight_memory_bits=bram_bits),
                       f"{'-'.join(map(str, sizes))} on {part.name}")
        except NeurocalError as err:
            return str(err)
        return None

    def cost(self, net: Any, spikes: np.ndarray, reference: BackendResult, hardware: Any) -> Any:
        from neurocal.costmodels import Cost
        from neurocal.profiles import profile

        shape = self._shape((), hardware, net)
        prediction = predict_run(shape, spikes, reference, serial=True)
        cycles = float(prediction.cycles.mean())
        clock = profile(hardware.profile).clock_mhz
        # synaptic operations (presynaptic spikes × fan-out, the golden model's count): the activity an energy
        # estimate scales with, until a measured energy model registers
        synops = float(np.asarray(reference.ops["synops"]).sum(axis=1).mean()) if "synops" in reference.ops else 0.0
        return Cost(objectives={"cycles_per_event": cycles, "latency_us": cycles / clock, "synops_per_event": synops},
                    info={"lanes": list(shape.lanes), "rows": list(shape.rows), "words": shape.words,
                          "clock_mhz": clock, "max_cycles": int(prediction.cycles.max())})
