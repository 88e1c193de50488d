"""Address-event (AER) packing of spike streams: the one definition every stage uses (docs/design.md §3).

A stream is a sequence of 32-bit little-endian words. Each event is sent tick by tick: the
spikes of a tick (ascending channel), then an end-of-tick marker; after the last tick, one
end-of-event marker. Every tick gets its marker, even an empty one, so that a consumer advances
time on markers alone.

======  ========  ===========================================================
bits    field     meaning
======  ========  ===========================================================
31:30   kind      ``0b00`` spike, ``0b01`` end of tick, ``0b10`` end of event
29:16   tick      tick index within the event (spike, end of tick);
                  number of ticks in the event (end of event)
15:0    address   input channel (spike); 0 (end of tick);
                  event sequence number modulo 2^16 (end of event)
======  ========  ===========================================================

Kind ``0b11`` never appears in an input stream (a decoder flags it as malformed).

Output stream (hardware → host), per event, in this order:

======  ========  ===========================================================
bits    field     meaning
======  ========  ===========================================================
31:30   kind      ``0b00`` output spike: [29:16] output tick (0 … T+L−1),
                  [15:0] output neuron; ascending (tick, neuron); no
                  end-of-tick markers (they would cost a word per tick)
31:30   kind      ``0b11`` readout voltage, one per output neuron in order:
                  [29:24] neuron index mod 64, [23:0] final ``v`` of the
                  output layer as 24-bit two's complement
31:30   kind      ``0b10`` end of event: [29:16] output ticks T+L,
                  [15:0] event sequence number modulo 2^16
======  ========  ===========================================================

The neuron index in every voltage word and the event number in every end-of-event word let a
reader detect a lost, duplicated or reordered word (:func:`decode_output` does).

The same tables are implemented in the HLS top, the RTL stream decoder and the PYNQ driver; the
constants below are exported to them by the generators rather than copied by hand.
"""

from __future__ import annotations

import numpy as np

from neurocal.errors import NeurocalError

KIND_SHIFT = 30
TICK_SHIFT = 16
TICK_BITS = 14
ADDR_BITS = 16
TICK_MASK = (1 << TICK_BITS) - 1
ADDR_MASK = (1 << ADDR_BITS) - 1

KIND_SPIKE = 0b00
KIND_END_OF_TICK = 0b01
KIND_END_OF_EVENT = 0b10
KIND_VOLTAGE = 0b11  # output streams only

VOLTAGE_BITS = 24
VOLTAGE_MASK = (1 << VOLTAGE_BITS) - 1
VOLTAGE_INDEX_SHIFT = 24
VOLTAGE_INDEX_MASK = 0x3F

MAX_TICKS = 1 << TICK_BITS
MAX_CHANNELS = 1 << ADDR_BITS


def pack(kind: np.ndarray | int, tick: np.ndarray | int, address: np.ndarray | int) -> np.ndarray:
    """Pack (kind, tick, address) into AER words (vectorised, uint32)."""
    kind = np.asarray(kind, dtype=np.uint32)
    tick = np.asarray(tick, dtype=np.int64)
    address = np.asarray(address, dtype=np.int64)
    if np.any((tick < 0) | (tick > TICK_MASK)):
        raise NeurocalError(f"AER tick out of range 0..{TICK_MASK}")
    if np.any((address < 0) | (address > ADDR_MASK)):
        raise NeurocalError(f"AER address out of range 0..{ADDR_MASK}")
    return (kind << KIND_SHIFT) | (tick.astype(np.uint32) << TICK_SHIFT) | address.astype(np.uint32)


def unpack(words: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split AER words into (kind, tick, address) arrays."""
    words = np.asarray(words, dtype=np.uint32)
    return words >> KIND_SHIFT, (words >> TICK_SHIFT) & TICK_MASK, words & ADDR_MASK


def encode_events(spikes: np.ndarray, first_event: int = 0) -> np.ndarray:
    """Encode boolean spikes ``(events, ticks, channels)`` (or one event ``(ticks, channels)``) to AER words."""
    spikes = np.asarray(spikes, dtype=bool)
    if spikes.ndim == 2:
        spikes = spikes[None]
    if spikes.ndim != 3:
        raise NeurocalError(f"spikes must be (events, ticks, channels), got shape {spikes.shape}")
    n_events, n_ticks, n_channels = spikes.shape
    if n_ticks > MAX_TICKS or n_channels > MAX_CHANNELS:
        raise NeurocalError(
            f"{n_ticks} ticks x {n_channels} channels exceed the AER word ({MAX_TICKS}, {MAX_CHANNELS})"
        )
    ev, tk, ch = np.nonzero(spikes)
    spike_words = pack(KIND_SPIKE, tk, ch)
    ev_grid, tk_grid = np.divmod(np.arange(n_events * n_ticks), n_ticks)
    eot_words = pack(KIND_END_OF_TICK, tk_grid, 0)
    eoe_words = pack(KIND_END_OF_EVENT, n_ticks, (np.arange(n_events) + first_event) & ADDR_MASK)
    # Order key: event, then tick (the end-of-event marker sorts after the last tick), then spikes before markers.
    key_spike = (ev * (n_ticks + 1) + tk) * 2
    key_eot = (ev_grid * (n_ticks + 1) + tk_grid) * 2 + 1
    key_eoe = (np.arange(n_events) * (n_ticks + 1) + n_ticks) * 2
    words = np.concatenate([spike_words, eot_words, eoe_words])
    order = np.argsort(np.concatenate([key_spike, key_eot, key_eoe]), kind="stable")
    return words[order]


def decode_events(words: np.ndarray, n_channels: int) -> np.ndarray:
    """Decode an AER stream back to boolean spikes ``(events, ticks, channels)``.

    Checks the framing: ticks announced in order, spikes inside their tick, every event closed.
    """
    kind, tick, addr = unpack(np.asarray(words))
    eoe = np.flatnonzero(kind == KIND_END_OF_EVENT)
    if len(words) and (len(eoe) == 0 or eoe[-1] != len(words) - 1):
        raise NeurocalError("AER stream does not end with an end-of-event marker (truncated stream?)")
    if np.any(kind == 0b11):
        raise NeurocalError(f"AER word {int(np.flatnonzero(kind == 0b11)[0])} has the reserved kind 0b11")
    n_ticks_per_event = tick[eoe]
    if len(eoe) and np.any(n_ticks_per_event != n_ticks_per_event[0]):
        raise NeurocalError("AER events of different lengths in one stream")
    n_ticks = int(n_ticks_per_event[0]) if len(eoe) else 0
    out = np.zeros((len(eoe), n_ticks, n_channels), dtype=bool)
    event_of_word = np.searchsorted(eoe, np.arange(len(words)))
    spike = kind == KIND_SPIKE
    if np.any(addr[spike] >= n_channels):
        raise NeurocalError(f"AER spike address {int(addr[spike].max())} >= {n_channels} channels")
    eot = kind == KIND_END_OF_TICK
    eot_count = np.bincount(event_of_word[eot], minlength=len(eoe))
    if np.any(eot_count != n_ticks):
        bad = int(np.flatnonzero(eot_count != n_ticks)[0])
        raise NeurocalError(f"AER event {bad}: {eot_count[bad]} end-of-tick markers, expected {n_ticks}")
    # Each spike must carry the tick that its following end-of-tick marker closes.
    eot_idx = np.flatnonzero(eot)
    closing = np.searchsorted(eot_idx, np.flatnonzero(spike))
    if np.any(tick[eot_idx[np.minimum(closing, len(eot_idx) - 1)]] != tick[spike]) if spike.any() else False:
        raise NeurocalError("AER spike tick does not match the end-of-tick marker that closes it")
    out[event_of_word[spike], tick[spike], addr[spike]] = True
    return out


def encode_output(spikes: np.ndarray, v: np.ndarray, first_event: int = 0) -> np.ndarray:
    """Output spikes ``(events, ticks, n_out)`` and readout voltages ``(events, n_out)`` → output-stream words."""
    spikes = np.asarray(spikes, dtype=bool)
    v = np.asarray(v, dtype=np.int64)
    if spikes.ndim != 3 or v.shape != (spikes.shape[0], spikes.shape[2]):
        raise NeurocalError(f"output spikes {spikes.shape} and voltages {v.shape} do not describe the same events")
    n_events, n_ticks, n_out = spikes.shape
    if n_ticks > MAX_TICKS or n_out > MAX_CHANNELS:
        raise NeurocalError(f"{n_ticks} ticks x {n_out} outputs exceed the AER word ({MAX_TICKS}, {MAX_CHANNELS})")
    if np.any(np.abs(v) >= 1 << (VOLTAGE_BITS - 1)):
        raise NeurocalError(f"a readout voltage exceeds the signed {VOLTAGE_BITS}-bit field")
    words = []
    for e in range(n_events):
        tk, ch = np.nonzero(spikes[e])  # row-major: ascending (tick, neuron)
        index = np.arange(n_out, dtype=np.uint32)
        volt = (np.uint32(KIND_VOLTAGE) << KIND_SHIFT) | ((index & VOLTAGE_INDEX_MASK) << VOLTAGE_INDEX_SHIFT)
        volt |= (v[e] & VOLTAGE_MASK).astype(np.uint32)
        eoe = np.atleast_1d(pack(KIND_END_OF_EVENT, n_ticks, (first_event + e) & ADDR_MASK))
        words += [pack(KIND_SPIKE, tk, ch), volt, eoe]
    return np.concatenate(words).astype(np.uint32) if words else np.zeros(0, dtype=np.uint32)


def decode_output(words: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Output-stream words → (spikes ``(events, ticks, n_out)`` bool, v ``(events, n_out)`` int32, event numbers).

    Checks the framing and says where it breaks: spikes in ascending order inside the event's ticks,
    exactly ``n_out`` voltage words with consecutive indices after the spikes, every event closed,
    all events of one length, consecutive event numbers (a lost or duplicated event).
    """
    words = np.asarray(words, dtype=np.uint32)
    kind, tick, addr = unpack(words)
    eoe = np.flatnonzero(kind == KIND_END_OF_EVENT)
    if len(words) and (len(eoe) == 0 or eoe[-1] != len(words) - 1):
        raise NeurocalError("output stream does not end with an end-of-event word (truncated stream?)")
    if len(eoe) and np.any(tick[eoe] != tick[eoe[0]]):
        raise NeurocalError("output stream: events of different lengths")
    n_ticks = int(tick[eoe[0]]) if len(eoe) else 0
    spikes = np.zeros((len(eoe), n_ticks, n_out), dtype=bool)
    v = np.zeros((len(eoe), n_out), dtype=np.int32)
    numbers = addr[eoe].astype(np.int64)
    start = 0
    for e, end in enumerate(eoe):
        k = kind[start:end]
        n_spikes = int(np.count_nonzero(k == KIND_SPIKE))
        where = f"output stream, event {e} (words {start}..{end})"
        if np.any(k[:n_spikes] != KIND_SPIKE) or np.any(k[n_spikes:] != KIND_VOLTAGE):
            raise NeurocalError(f"{where}: expected spike words, then voltage words, then end of event")
        if end - start - n_spikes != n_out:
            raise NeurocalError(
                f"{where}: {end - start - n_spikes} voltage words, expected {n_out} (lost or duplicated)"
            )
        t, ch = tick[start : start + n_spikes].astype(np.int64), addr[start : start + n_spikes].astype(np.int64)
        if np.any(t >= n_ticks) or np.any(ch >= n_out):
            raise NeurocalError(f"{where}: a spike lies outside {n_ticks} ticks x {n_out} outputs")
        key = t * n_out + ch
        if np.any(np.diff(key) <= 0):
            raise NeurocalError(f"{where}: spikes not in ascending (tick, neuron) order (reordered or duplicated)")
        spikes[e, t, ch] = True
        volt = words[start + n_spikes : end]
        index = (volt >> VOLTAGE_INDEX_SHIFT) & VOLTAGE_INDEX_MASK
        if np.any(index != np.arange(n_out) & VOLTAGE_INDEX_MASK):
            raise NeurocalError(f"{where}: voltage words out of order (lost or duplicated)")
        raw = (volt & VOLTAGE_MASK).astype(np.int64)
        v[e] = np.where(raw >= 1 << (VOLTAGE_BITS - 1), raw - (1 << VOLTAGE_BITS), raw)
        start = end + 1
    if len(numbers) > 1 and np.any(np.diff(numbers) % (1 << ADDR_BITS) != 1):
        bad = int(np.flatnonzero(np.diff(numbers) % (1 << ADDR_BITS) != 1)[0])
        raise NeurocalError(
            f"output stream: event number {int(numbers[bad + 1])} follows {int(numbers[bad])} "
            f"(a lost or repeated event)"
        )
    return spikes, v, numbers
