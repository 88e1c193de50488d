import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurocal import aer
from neurocal.errors import NeurocalError


def test_word_layout_matches_the_documented_table():
    word = int(aer.pack(aer.KIND_SPIKE, 99, 399))
    assert word == (99 << 16) | 399
    assert int(aer.pack(aer.KIND_END_OF_TICK, 5, 0)) == (1 << 30) | (5 << 16)
    assert int(aer.pack(aer.KIND_END_OF_EVENT, 100, 7)) == (2 << 30) | (100 << 16) | 7


def test_one_event_stream_order():
    spikes = np.zeros((3, 4), dtype=bool)
    spikes[0, 2] = spikes[0, 1] = spikes[2, 3] = True
    kind, tick, addr = aer.unpack(aer.encode_events(spikes))
    assert kind.tolist() == [0, 0, 1, 1, 0, 1, 2]
    assert tick.tolist() == [0, 0, 0, 1, 2, 2, 3]
    assert addr.tolist() == [1, 2, 0, 0, 3, 0, 0]


@settings(max_examples=40, deadline=None)
@given(
    n_events=st.integers(0, 4),
    n_ticks=st.integers(1, 12),
    n_channels=st.integers(1, 40),
    density=st.floats(0, 1),
    seed=st.integers(0, 2**31),
)
def test_round_trip(n_events, n_ticks, n_channels, density, seed):
    spikes = np.random.default_rng(seed).random((n_events, n_ticks, n_channels)) < density
    words = aer.encode_events(spikes, first_event=70000)
    assert words.dtype == np.uint32
    assert len(words) == spikes.sum() + n_events * (n_ticks + 1)
    back = aer.decode_events(words, n_channels)
    if n_events:
        np.testing.assert_array_equal(back, spikes)
        _, _, addr = aer.unpack(words[aer.unpack(words)[0] == aer.KIND_END_OF_EVENT])
        assert addr.tolist() == [(70000 + i) & 0xFFFF for i in range(n_events)]


def test_truncated_stream_is_rejected():
    words = aer.encode_events(np.ones((2, 3, 5), dtype=bool))
    with pytest.raises(NeurocalError, match="end-of-event"):
        aer.decode_events(words[:-1], 5)


def test_missing_tick_marker_is_rejected():
    words = aer.encode_events(np.ones((1, 3, 2), dtype=bool))
    kind = aer.unpack(words)[0]
    first_eot = int(np.flatnonzero(kind == aer.KIND_END_OF_TICK)[0])
    with pytest.raises(NeurocalError, match="end-of-tick"):
        aer.decode_events(np.delete(words, first_eot), 2)


def test_address_and_tick_limits():
    with pytest.raises(NeurocalError, match="address"):
        aer.pack(aer.KIND_SPIKE, 0, 1 << 16)
    with pytest.raises(NeurocalError, match="tick"):
        aer.pack(aer.KIND_SPIKE, 1 << 14, 0)
    with pytest.raises(NeurocalError, match="channels"):
        aer.decode_events(aer.encode_events(np.ones((1, 1, 9), dtype=bool)), 8)
