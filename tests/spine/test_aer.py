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


@settings(max_examples=40, deadline=None)
@given(
    n_events=st.integers(1, 4),  # an empty stream carries no tick count
    n_ticks=st.integers(1, 12),
    n_out=st.integers(1, 70),
    seed=st.integers(0, 2**31 - 1),
)
def test_output_stream_round_trip(n_events, n_ticks, n_out, seed):
    rng = np.random.default_rng(seed)
    spikes = rng.random((n_events, n_ticks, n_out)) < 0.2
    v = rng.integers(-(2**23) + 1, 2**23, size=(n_events, n_out))
    words = aer.encode_output(spikes, v, first_event=65534)
    got_spikes, got_v, numbers = aer.decode_output(words, n_out)
    assert np.array_equal(got_spikes, spikes) and np.array_equal(got_v, v)
    assert numbers.tolist() == [(65534 + e) % 65536 for e in range(n_events)]


def test_output_stream_layout():
    spikes = np.zeros((1, 3, 2), dtype=bool)
    spikes[0, 2, 1] = True
    words = aer.encode_output(spikes, np.array([[-1, 5]]), first_event=7).tolist()
    assert words == [(2 << 16) | 1, (3 << 30) | 0xFFFFFF, (3 << 30) | (1 << 24) | 5, (2 << 30) | (3 << 16) | 7]


def _three_events() -> np.ndarray:
    spikes = np.zeros((3, 4, 2), dtype=bool)
    spikes[:, 1, 0] = True  # each event: 1 spike, 2 voltages, 1 end of event = 4 words
    return aer.encode_output(spikes, np.ones((3, 2), dtype=int))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda w: np.delete(w, 2), "voltage words"),  # a lost voltage word
        (lambda w: np.insert(w, 1, w[1]), "voltage words"),  # a duplicated voltage word
        (lambda w: np.insert(w, 0, w[0]), "ascending"),  # a duplicated spike
        (lambda w: np.concatenate([w[:4], w[8:]]), "event number"),  # event 1 lost whole
        (lambda w: w[:-1], "does not end"),
    ],
)
def test_output_stream_detects_lost_and_duplicated_words(edit, message):
    with pytest.raises(NeurocalError, match=message):
        aer.decode_output(edit(_three_events()), 2)
