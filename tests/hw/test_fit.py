"""The fitter: builds within the profile's limits by the resource model, the fastest by the cycle model, refusals
with the numbers, explicit knobs kept; and the ``resources`` cost model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurocal.costmodels import Hardware, get_costmodel
from neurocal.errors import NeurocalError
from neurocal.hw.costmodel import predict_cycles
from neurocal.hw.fit import RESOURCES, TIE, estimate_parts, fit, fit_network, limits, violations, workload
from neurocal.hw.generate import params_header, shape_for_any
from neurocal.profiles import PROFILES
from neurocal.testnets import random_network

PYNQ, ZCU = PROFILES["pynq-z2"], PROFILES["zcu104"]


def _within(shape, part) -> None:
    res, dist = estimate_parts(shape)
    lim = limits(part)
    assert all(res[r] <= lim[r] for r in RESOURCES), (res, lim)
    assert dist <= part.resources["LUTRAM"]
    assert violations(shape, part) == []


@pytest.mark.parametrize(("sizes", "part"), [((400, 50, 30, 1), PYNQ), ((400, 50, 30, 1), ZCU),
                                             ((400, 120, 120, 20), ZCU)], ids=["demo-pynq", "demo-zcu", "big-zcu"])
def test_the_demo_fits_both_parts_and_the_large_network_the_zcu104(sizes, part) -> None:
    chosen = fit(shape_for_any(sizes, sizes[1:]), part)
    _within(chosen.shape, part)
    assert chosen.shape.profile_id == part.profile_id
    assert chosen.shape.words <= part.dma_bits // 32  # no wider rx than the DMA feeds
    assert f"NC_PROFILE = 32'd{part.profile_id};" in params_header(chosen.shape, "test")
    # the fitter's cycles are the cycle model's on its workload
    rasters = workload(sizes)
    assert chosen.cycles_mean == predict_cycles(chosen.shape, rasters[:-1], rasters[-1]).cycles.mean()


def test_the_large_network_fits_the_zcu104_at_full_parallelism_and_the_xc7z020_only_time_multiplexed() -> None:
    """One lane and one LIF updater per neuron fits the zcu104 (520 of 1 728 DSPs), not the xc7z020. There the
    model accepts only a build with a layer of at least STATE_RAM_MIN LIF steps per tick, whose neuron state is
    distributed RAM (priced by one yosys build so far, benchmarks/results/2026-12-05-lifram.md)."""
    from neurocal.hw.resource_model import STATE_RAM_MIN

    sizes = (400, 120, 120, 20)
    base = shape_for_any(sizes, sizes[1:])
    full = fit(base, ZCU, lanes=sizes[1:], lif_lanes=sizes[1:])
    _within(full.shape, ZCU)
    assert full.resources["DSP"] == 520
    with pytest.raises(NeurocalError, match=r"DSP needs 520, the xc7z020clg400-1 has 220, limit 90 % = 198 less 10"):
        fit(base, PYNQ, lanes=sizes[1:], lif_lanes=sizes[1:])
    chosen = fit(base, PYNQ)
    _within(chosen.shape, PYNQ)
    shape = chosen.shape
    steps = [-(-n // k) * (k // f) for n, k, f in zip(sizes[1:], shape.lanes, shape.lif_lanes, strict=True)]
    assert max(steps) >= STATE_RAM_MIN


def test_the_fastest_fitting_build_wins() -> None:
    """No build of the candidates' kind that fits is faster by the cycle model: here, against the default
    parallelism narrowed by hand, and against every words value the DMA allows."""
    base = shape_for_any((400, 50, 30, 1), (50, 30, 1))
    chosen = fit(base, PYNQ)
    rasters = workload(base.sizes)
    for words in (1, 2):
        other = fit(base, PYNQ, words=words)
        assert chosen.cycles_mean <= other.cycles_mean * (1 + TIE)  # within 1 %: the rx as wide as the DMA
    narrow = fit(base, PYNQ, lanes=(10, 10, 1), rows=(2, 1, 1))
    assert chosen.cycles_mean < narrow.cycles_mean == predict_cycles(narrow.shape, rasters[:-1], rasters[-1]
                                                                      ).cycles.mean()


def test_a_network_too_large_is_refused_in_one_line_naming_each_resource() -> None:
    with pytest.raises(NeurocalError) as err:
        fit(shape_for_any((2000, 1000, 500, 10), (128, 128, 10)), PYNQ, what="network 2000-1000-500-10")
    text = str(err.value)
    assert "\n" not in text and text.startswith("network 2000-1000-500-10 does not fit the pynq-z2")
    assert "the xc7z020clg400-1 has 53200, limit 80 % = 42560" in text and "BRAM36 needs" in text


def test_explicit_knobs_are_kept_and_checked() -> None:
    net = random_network([400, 50, 30, 1], np.random.default_rng(1))
    chosen = fit_network(net, PYNQ, lanes=25, rows=[16, 8, 8], words=2)
    assert chosen.shape.lanes == (25, 25, 1) and chosen.shape.rows == (16, 8, 8) and chosen.shape.words == 2
    _within(chosen.shape, PYNQ)
    with pytest.raises(NeurocalError, match=r"with --lanes 50-30-1 --rows 31-8-8 --words 16 does not fit the "
                                            r"pynq-z2 .* LUT needs \d+, the xc7z020clg400-1 has 53200"):
        fit_network(net, PYNQ, lanes=[50, 30, 1], rows=[31, 8, 8], words=16)


def test_the_line_input_is_fitted_with_the_line_receiver() -> None:
    """With the detector lines there is no beat width to choose (s_axis is unused: 1 word) and the finalists are
    ranked by the cycle model running the line receiver (a raster per cycle) on a workload of the window's
    ticks; the fitted build beats the AER feed's, whose receiver spends (s + 1) / W cycles on a shower's tick."""
    base = dataclasses.replace(shape_for_any((400, 50, 30, 1), (50, 30, 1)), input="lines", line_k=25)
    for ticks in (100, 50):
        chosen = fit(dataclasses.replace(base, line_ticks=ticks), PYNQ)
        _within(chosen.shape, PYNQ)
        s = chosen.shape
        assert (s.input, s.words, s.line_k, s.line_ticks, s.profile_id) == ("lines", 1, 25, ticks, PYNQ.profile_id)
        rasters = workload(base.sizes, ticks=ticks)
        assert chosen.cycles_mean == predict_cycles(s, rasters[:-1], rasters[-1]).cycles.mean()
        assert f"line input ({ticks} ticks, K 25)" in chosen.summary()
    assert chosen.cycles_mean < fit(dataclasses.replace(base, input="aer"), PYNQ).cycles_mean
    net = random_network([400, 50, 30, 1], np.random.default_rng(1))
    assert fit_network(net, PYNQ, input_kind="lines", line_k=20, line_ticks=60).shape.line_k == 20
    with pytest.raises(NeurocalError, match=r"--words sets the AER input's beat; a build with the line input takes "
                                            r"none$"):
        fit_network(net, PYNQ, input_kind="lines", words=2)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(1, 300), min_size=2, max_size=4), part=st.sampled_from([PYNQ, ZCU]),
       words=st.one_of(st.none(), st.integers(1, 8)))
def test_every_accepted_build_is_within_the_limits(sizes, part, words) -> None:
    base = shape_for_any(sizes, sizes[1:])
    try:
        chosen = fit(base, part, words=words, rasters=workload(sizes, events=1, ticks=20))
    except NeurocalError as err:
        assert "needs" in str(err) and "\n" not in str(err)
        return
    _within(chosen.shape, part)
    if words is not None:
        assert chosen.shape.words == words


def test_the_resources_cost_model_checks_the_fit_and_reports_shares_of_the_part() -> None:
    model = get_costmodel("resources")
    assert model.check((400, 50, 30, 1), Hardware("pynq-z2")) is None
    reason = model.check((400, 50, 30, 1), Hardware("pynq-z2", lanes=(50, 30, 1), rows=(31, 8, 8), words=16))
    assert reason is not None and "LUT needs" in reason
    net = random_network([40, 12, 3], np.random.default_rng(2))
    cost = model.cost(net, np.zeros((1, 5, 40), dtype=bool), None, Hardware("pynq-z2"))
    assert set(cost.objectives) == set(model.objectives)
    res, _ = estimate_parts(fit_network(net, PYNQ).shape)
    assert cost.objectives["lut_pct"] == pytest.approx(100 * res["LUT"] / 53200)
    assert cost.objectives["dsp_pct"] == pytest.approx(100 * res["DSP"] / 220)


def test_the_search_takes_the_resources_cost_model_and_its_objectives() -> None:
    from neurocal.models.search import SearchSettings, _check_objectives

    _check_objectives(SearchSettings(data="d.h5", target="energy", objectives=("lut_pct", "dsp_pct"),
                                     costmodel="resources"))
    with pytest.raises(NeurocalError, match="latency_us not measured by cost model 'resources'; choose from "
                                            "lut_pct, ff_pct, bram36_pct, dsp_pct"):
        _check_objectives(SearchSettings(data="d.h5", target="energy", objectives=("latency_us",),
                                         costmodel="resources"))
