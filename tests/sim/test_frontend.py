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
