"""Energy constants of every target, each with its value, unit and source: one place for the report and the
co-design search.

A constant is a published figure (paper, datasheet), a measurement, or a stated **assumption**; its
``source`` says which. Energies per event are built from them by the report's energy section as
``E = Σ_k count_k · e_k`` (operation counts times per-operation energies) or ``E = P · t`` (a power times
the time an event takes); the formula and its inputs travel with every number in ``report.json``.

Loihi (Davies et al., "Loihi: A Neuromorphic Manycore Processor with On-Chip Learning", IEEE Micro 38(1):
82–99, 2018, Table 2 "Loihi pre-silicon performance and energy measurements", p. 96; pre-silicon SDF and
SPICE simulations at 0.75 V "consistent with early post-silicon characterization"):

* energy per synaptic spike op (min): 23.6 pJ;
* energy per neuron update (active / inactive): 81 pJ / 52 pJ;
* within-tile spike energy: 1.7 pJ.

Loihi 2 has no per-operation energy table we could cite, so no Loihi 2 figure is used.

The FPGA figures are a stated power model (no vendor per-resource energy is published outside the Xilinx
Power Estimator spreadsheet): a Vivado ``report_power`` in a deploy folder replaces the whole model.
The CPU figure is an assumption unless RAPL energy counters are readable (then the energy is measured).
The photonic front end's constants live with its model (``neurocal.sim.photonic.EnergyConstants``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Constant:
    """A figure an energy estimate uses: value in ``unit``, and where it comes from."""

    value: float
    unit: str
    source: str

    def to_dict(self) -> dict[str, object]:
        return {"value": self.value, "unit": self.unit, "source": self.source}


_DAVIES = ("Davies et al., IEEE Micro 38(1):82-99 (2018), Table 2 'Loihi pre-silicon performance and energy "
           "measurements', p. 96")

LOIHI_SYNOP = Constant(23.6, "pJ", f"{_DAVIES}: energy per synaptic spike op (min)")
LOIHI_NEURON_UPDATE_ACTIVE = Constant(81.0, "pJ", f"{_DAVIES}: energy per neuron update (active)")
LOIHI_NEURON_UPDATE_INACTIVE = Constant(52.0, "pJ", f"{_DAVIES}: energy per neuron update (inactive)")
LOIHI_SPIKE_WITHIN_TILE = Constant(1.7, "pJ", f"{_DAVIES}: within-tile spike energy")

CPU_CORE_POWER = Constant(
    15.0, "W", "assumption: the power of one busy core of a server-class x86 CPU (a ~150 W package over ~10 "
    "busy cores); used only where RAPL energy counters (/sys/class/powercap) are not readable")

FPGA_STATIC_POWER = Constant(
    0.1, "W", "assumption: programmable-logic static power of a 28-nm Zynq-7020 at a typical junction "
    "temperature, order of magnitude of the Xilinx Power Estimator's; Vivado's report_power replaces it")
FPGA_TOGGLE_RATE = Constant(
    0.125, "1", "Xilinx Power Estimator User Guide UG440, 'Using the Logic Sheet': default toggle rate 12.5 % "
    "(an average over customer designs)")
FPGA_LUT_TOGGLE_ENERGY = Constant(
    2.0, "pJ", "assumption: energy of one LUT output transition including its share of routing, 28 nm")
FPGA_FF_TOGGLE_ENERGY = Constant(
    1.0, "pJ", "assumption: energy of one flip-flop transition including clock load, 28 nm")
FPGA_BRAM_ACCESS_ENERGY = Constant(
    20.0, "pJ", "assumption: energy of one 36-kbit block-RAM read per port, 28 nm")
FPGA_DSP_OP_ENERGY = Constant(
    10.0, "pJ", "assumption: energy of one DSP48E1 multiply-add, 28 nm")

ALL: dict[str, Constant] = {
    "loihi_synop": LOIHI_SYNOP,
    "loihi_neuron_update_active": LOIHI_NEURON_UPDATE_ACTIVE,
    "loihi_neuron_update_inactive": LOIHI_NEURON_UPDATE_INACTIVE,
    "loihi_spike_within_tile": LOIHI_SPIKE_WITHIN_TILE,
    "cpu_core_power": CPU_CORE_POWER,
    "fpga_static_power": FPGA_STATIC_POWER,
    "fpga_toggle_rate": FPGA_TOGGLE_RATE,
    "fpga_lut_toggle_energy": FPGA_LUT_TOGGLE_ENERGY,
    "fpga_ff_toggle_energy": FPGA_FF_TOGGLE_ENERGY,
    "fpga_bram_access_energy": FPGA_BRAM_ACCESS_ENERGY,
    "fpga_dsp_op_energy": FPGA_DSP_OP_ENERGY,
}
