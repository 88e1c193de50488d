"""nc_lif_update against the golden model's exact LIF rule, on Icarus and Verilator."""

from __future__ import annotations

import numpy as np
import pytest

from neurocal.hw import simulators
from neurocal.hw.sources import rtl_sources
from neurocal.intnet import V_MAX
from tests.hw.lif_vectors import lif_vectors

pytestmark = pytest.mark.rtl


@pytest.mark.parametrize("u_w", [32, 25])
@pytest.mark.parametrize("sim", simulators.SIMULATORS)
def test_lif_update_matches_golden(sim: str, u_w: int, hw_build_root) -> None:
    vec = lif_vectors(np.random.default_rng(1000 + u_w), u_bits=u_w)
    # the vectors must reach the corners they are meant to test, or the test proves little
    assert vec["spike"].any() and (np.abs(vec["v_out"]) == V_MAX).any()
    if u_w == 32:
        assert (np.abs(vec["u_out"]) > 1 << 24).any(), "no wrapped current beyond 25 bits"
    built = simulators.build(sim, "nc_lif_update", rtl_sources(["nc_lif_update"]),
                             hw_build_root / f"lif_update-{sim}-u{u_w}", parameters={"U_W": u_w})
    vectors = built.build_dir / "vectors.npz"
    np.savez(vectors, **vec)
    simulators.run(built, "neurocal.hw.tb.lif_update", extra_env={"NC_TB_VECTORS": str(vectors)})
