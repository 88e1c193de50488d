"""Address-event (AER) packing of spike streams: the one definition every stage uses (DESIGN §3).

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

The same table is implemented in the HLS top, the RTL stream decoder and the PYNQ driver; the
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
