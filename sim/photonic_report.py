"""The InP photonic front end's energy per event for ``neurocal report``, from its model.

``E = n_spikes · (E_spike + E_link) · 10⁻¹⁵ + P_static · n_channels · T_window · 10⁻⁹`` J
(:func:`neurocal.sim.photonic.energy_per_event`; fJ, W and ns), with ``n_spikes`` the input spikes per
event the front end emits (the network's input spikes on the report's events) and ``T_window`` the
event's ticks × tick length.
"""

from __future__ import annotations

import numpy as np

from neurocal.report.quantity import derived, measured, stated
from neurocal.report.section import Context, EnergyRow
from neurocal.sim.photonic import EnergyConstants, energy_per_event


def photonic_energy(ctx: Context) -> list[EnergyRow]:
    per_event = ctx.spikes.sum(axis=(1, 2))
    ticks, channels = int(ctx.spikes.shape[1]), int(ctx.spikes.shape[2])
    tick_ns = float(ctx.net.frontend.get("tick_ns", 0.2))
    model = energy_per_event(per_event, channels, ticks * tick_ns, EnergyConstants())
    k = {name: stated(c["value"], unit, c["source"]) for (name, c), unit in
         zip(model["constants"].items(), ("fJ", "fJ", "W"), strict=True)}
    e = derived("spikes * (e_spike + e_link) * 1e-15 + p_static * channels * ticks * tick_ns * 1e-9", "J",
                spikes=measured(float(per_event.mean()), "spikes/event", f"input spikes, mean over {len(per_event)} "
                                "events"),
                e_spike=k["energy_per_spike_fj"], e_link=k["link_energy_fj"], p_static=k["static_power_w"],
                channels=measured(channels, "channels", "intnet.json inputs"),
                ticks=measured(ticks, "ticks", "events' time window"),
                tick_ns=stated(tick_ns, "ns", "the bundle's front end (intnet.json 'frontend')"))
    # the model's own mean, the same formula: a change to one without the other is a bug
    assert np.isclose(e["value"], float(np.mean(model["energy_j"])), rtol=1e-9), (e["value"], model["energy_j"])
    return [EnergyRow("InP photonic front end", e, "model (neurocal.sim.photonic): emitted spikes and static bias")]
