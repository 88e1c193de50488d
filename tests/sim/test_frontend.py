import numpy as np

from neurocal.config import ThresholdConfig
from neurocal.sim.frontend import channel_address, encode_thresholds


def test_strictly_greater_than_each_threshold():
    photons = np.zeros((2, 3), dtype=np.uint32)  # (ticks, sensors)
    photons[0] = [100, 101, 100_001]
    photons[1, 2] = 1000
    spikes = encode_thresholds(photons)
    assert spikes.shape == (2, 12)
    assert not spikes[0, channel_address(0, np.arange(4))].any()  # 100 is not > 100
    assert spikes[0, channel_address(1, np.arange(4))].tolist() == [True, False, False, False]
    assert spikes[0, channel_address(2, np.arange(4))].all()
    assert spikes[1, channel_address(2, np.arange(4))].tolist() == [True, False, False, False]


def test_levels_are_nested_and_configurable(rng):
    photons = rng.integers(0, 10**6, (4, 100, 100))
    spikes = encode_thresholds(photons).reshape(4, 100, 100, 4)
    assert np.all(spikes[..., 1:] <= spikes[..., :-1])  # a higher level never fires alone
    two = encode_thresholds(photons, ThresholdConfig(thresholds=(10.0, 500.0)))
    assert two.shape == (4, 100, 200)


# --- the front-end interface --------------------------------------------------------------------

import pytest  # noqa: E402

from neurocal.errors import NeurocalError  # noqa: E402
from neurocal.sim.frontend import (  # noqa: E402
    FRONTEND_KEY,
    METADATA_KEY,
    FrontEnd,
    ThresholdFrontEnd,
    check_stream,
    frontend_from_dict,
    frontend_from_metadata,
)


def test_threshold_front_end_is_the_ideal_encoder(rng):
    photons = rng.integers(0, 10**6, (3, 20, 100)).astype(np.uint32)
    fe = ThresholdFrontEnd((10.0, 500.0))
    assert isinstance(fe, FrontEnd)
    assert np.array_equal(fe.encode(photons), encode_thresholds(photons, (10.0, 500.0)))
    assert fe.encode(photons).shape == (3, 20, 200)


def test_settings_round_trip_through_a_plain_dict():
    fe = ThresholdFrontEnd((10.0, 500.0, 7000.0))
    d = fe.to_dict()
    assert d == {"kind": "threshold", "thresholds": [10.0, 500.0, 7000.0], "n_ticks": 100, "tick_ns": 0.2}
    assert frontend_from_dict(d).to_dict() == d
    assert frontend_from_dict(None).to_dict() == ThresholdFrontEnd().to_dict()
    short = frontend_from_dict({**d, "n_ticks": 50, "tick_ns": 0.1})
    assert short.stream.n_ticks == 50 and short.stream.tick_ns == 0.1


def test_default_front_end_is_the_integer_networks_default():
    from neurocal.intnet import DEFAULT_FRONTEND

    assert ThresholdFrontEnd().to_dict() == DEFAULT_FRONTEND
    assert frontend_from_dict(DEFAULT_FRONTEND).to_dict() == DEFAULT_FRONTEND


def test_events_on_another_time_base_are_refused():
    fe = ThresholdFrontEnd()
    check_stream(fe, 100, 0.2, "data.h5")
    with pytest.raises(NeurocalError, match=r"data.h5: events have 50 ticks of 0.2 ns .* expects 100 ticks"):
        check_stream(fe, 50, 0.2, "data.h5")
    with pytest.raises(NeurocalError, match=r"0\.1 ns"):
        check_stream(fe, 100, 0.1, "data.h5")


def test_metadata_prefers_the_front_end_dict_and_reads_the_legacy_levels():
    assert frontend_from_metadata({METADATA_KEY: [5.0, 50.0]}).to_dict()["thresholds"] == [5.0, 50.0]
    photonic = {"kind": "photonic", "seed": 3}
    meta = {FRONTEND_KEY: photonic, METADATA_KEY: [5.0, 50.0]}
    assert frontend_from_metadata(meta).to_dict()["kind"] == "photonic"
    assert frontend_from_metadata(None).to_dict() == ThresholdFrontEnd().to_dict()
    old_export = {METADATA_KEY: [5.0, 50.0], "n_ticks": 60, "tick_ns": 0.25, "input_channel": "sensor * n_levels"}
    assert frontend_from_metadata(old_export).to_dict() == {
        "kind": "threshold", "thresholds": [5.0, 50.0], "n_ticks": 60, "tick_ns": 0.25,
    }  # fmt: skip
    with pytest.raises(NeurocalError, match=r"model.nir: front_end: thresholds must be"):
        frontend_from_metadata({METADATA_KEY: [50.0, 5.0]}, source="model.nir")


@pytest.mark.parametrize(
    ("d", "words"),
    [
        ({"kind": "laser"}, ["front_end.kind", "'laser'", "threshold, photonic"]),
        ({"thresholds": [1.0]}, ["front_end.kind", "None"]),
        ({"kind": "threshold", "thresholds": [100.0, 10.0]}, ["front_end: thresholds", "increasing"]),
        ({"kind": "threshold", "threshhold": [1.0]}, ["front_end.threshhold", "not permitted"]),
        ({"kind": "threshold", "n_ticks": 0}, ["front_end.n_ticks", "greater than 0"]),
        ({"kind": "photonic", "n_ticks": -3}, ["front_end.n_ticks"]),
        ([1, 2], ["must be a mapping"]),
    ],
)
def test_bad_front_end_dicts_name_the_field(d, words):
    with pytest.raises(NeurocalError) as err:
        frontend_from_dict(d, source="bundle/intnet.json")
    msg = str(err.value)
    assert msg.startswith("bundle/intnet.json: ") and "\n" not in msg
    for w in words:
        assert w in msg


def test_photon_frames_are_checked():
    fe = ThresholdFrontEnd()
    with pytest.raises(NeurocalError, match="events, ticks, sensors"):
        fe.encode(np.zeros((10, 100)))
    with pytest.raises(NeurocalError, match="negative"):
        fe.encode(-np.ones((1, 2, 3), dtype=np.int64))
    with pytest.raises(NeurocalError, match="integer counts"):
        fe.encode(np.full((1, 2, 3), 0.5))
