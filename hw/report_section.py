"""The report's **hardware** section and the FPGA's energy row, from the RTL run and the cost models.

* cycles per event (mean, p99, max) from an RTL simulation of the report's events (Verilator or Icarus,
  whichever of the report's backends ran first), beside the cycle model's prediction
  (:mod:`neurocal.hw.costmodel`, exact by construction); without an RTL run, the model's alone, said so;
* latency ``t = cycles · 1000 / f_MHz`` ns and events per second one at a time ``f_MHz · 10⁶ / cycles``
  at the profile's clock (:mod:`neurocal.profiles`);
* LUT/FF/BRAM36/DSP from the resource model (:mod:`neurocal.hw.resource_model`) and, where ``rtl synth``
  has cached a yosys report for this network and profile under ``--build-root``, yosys's counts and
  its logic-only clock estimate;
* FPGA energy per event ``E = P · cycles / f`` with ``P`` from Vivado's ``report_power`` in a deploy
  folder, else the stated model ``P = P_static + f · α · (LUT·e_LUT + FF·e_FF + BRAM·e_BRAM + DSP·e_DSP)``
  (constants and sources in :mod:`neurocal.energy`).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from neurocal import energy
from neurocal.errors import NeurocalError
from neurocal.profiles import profile
from neurocal.report.quantity import constant, derived, measured, show, stated
from neurocal.report.section import Context, EnergyRow, SectionResult, Table

RTL_BACKENDS = ("rtl-verilator", "rtl-icarus")
RESOURCES = ("LUT", "FF", "BRAM36", "DSP")
_POWER = re.compile(r"Total On-Chip Power \(W\)\s*\|\s*([0-9.]+)")


def _shape(ctx: Context, row: dict[str, Any] | None) -> Any:
    from neurocal.hw.generate import HwConfig, shape_for, shape_from_config

    if row is not None and row.get("shape"):
        s = row["shape"]
        return shape_for(ctx.net, s.get("lanes"), rows=s.get("rows"), words=s.get("words", 16))
    return shape_from_config(ctx.net, HwConfig())


def _rtl_row(ctx: Context, out: SectionResult) -> dict[str, Any] | None:
    for name in RTL_BACKENDS:
        if name in ctx.backends:
            try:
                return ctx.backend_row(name)
            except NeurocalError as err:
                out.not_run.append(f"{name} cycles: not run, because {err}")
    return None


def _cached_synth(ctx: Context) -> dict[str, Any] | None:
    """The yosys report ``neurocal rtl synth`` cached for this network's default build and the profile, if any."""
    import json

    from neurocal.hw.cosim import shape_key
    from neurocal.hw.generate import HwConfig, generate, shape_from_config
    from neurocal.hw.sources import rtl_dir, rtl_sources
    from neurocal.hw.synth import content_key, yosys_version

    config = HwConfig()
    shape = shape_from_config(ctx.net, config)
    with tempfile.TemporaryDirectory(prefix="neurocal-report-") as tmp:
        project = generate(ctx.net, Path(tmp) / f"gen-{shape_key(shape)}", config, shape=shape,
                           command="neurocal rtl synth")
        key = content_key(project, yosys_version(), [*rtl_sources(), *sorted(rtl_dir().glob("*.vh"))],
                          profile(ctx.profile))
    path = Path(ctx.build_root).resolve() / f"synth-{key[:16]}" / "report.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return data if data.get("key") == key else None


def hardware(ctx: Context) -> dict[str, Any]:
    """Everything the section and the FPGA energy row need (computed once per report)."""
    if "hardware" in ctx.published:
        return ctx.published["hardware"]
    from neurocal.hw.costmodel import predict_run
    from neurocal.hw.resource_model import estimate

    part = profile(ctx.profile)
    notes: list[str] = []
    scratch = SectionResult()
    row = _rtl_row(ctx, scratch)
    shape = _shape(ctx, row)
    serial = bool(row.get("serial", False)) if row else True

    def model() -> dict[str, Any]:
        golden = ctx.result("golden")
        return {"cycles": predict_run(shape, ctx.spikes, golden, serial=serial).cycles.astype(int).tolist()}

    from neurocal.report.cache import code_digest

    predicted = np.asarray(ctx.stage("cycle-model", model, shape=repr(shape), serial=serial,
                                     code=code_digest(__name__))["cycles"], dtype=float)
    clock = stated(part.clock_mhz, "MHz", f"profile {part.name}: PL clock (neurocal/profiles.py)")
    found: dict[str, Any] = {"clock": clock, "not_run": scratch.not_run, "notes": notes}
    src = f"cycle model ({'serial' if serial else 'streamed'} events)"
    model_q = {"mean": measured(float(predicted.mean()), "cycles", src),
               "p99": measured(float(np.percentile(predicted, 99)), "cycles", src),
               "max": measured(float(predicted.max()), "cycles", src)}
    found["model"] = model_q
    if row is not None:
        cycles = np.asarray(row["cycles"], dtype=float)
        how = f"{row['backend']} simulation, {len(cycles)} events ({'serial' if serial else 'streamed'})"
        found["rtl"] = {"mean": measured(float(cycles.mean()), "cycles", how),
                        "p99": measured(float(np.percentile(cycles, 99)), "cycles", how),
                        "max": measured(float(cycles.max()), "cycles", how)}
        found["model_differs"] = measured(int((cycles != predicted).sum()), "events", "cycle model vs RTL")
        found["source"] = row["backend"]
    else:
        found["rtl"] = None
        found["source"] = "cycle model"
        scratch.not_run.append("RTL cycles: not run, because no RTL backend is among --backends; the cycle "
                               "model's prediction stands alone")
    basis = found["rtl"] or model_q
    found["latency"] = derived("cycles * 1000 / clock_mhz", "ns", cycles=basis["mean"], clock_mhz=clock)
    found["latency_max"] = derived("cycles * 1000 / clock_mhz", "ns", cycles=basis["max"], clock_mhz=clock)
    found["rate"] = derived("clock_mhz * 1e6 / cycles", "events/s", cycles=basis["mean"], clock_mhz=clock)
    try:
        est = estimate(shape)
        trust = "" if est.current else " (fitted on other RTL sources: re-fit with benchmarks/calibrate_resources.py)"
        found["resources"] = {k: measured(est.resources[k], k, f"resource model{trust}") for k in RESOURCES}
        found["utilisation"] = {k: derived("used / available", "1", used=found["resources"][k],
                                           available=stated(part.resources[k], k, f"profile {part.name}"))
                                for k in RESOURCES}
    except NeurocalError as err:
        found["resources"] = None
        scratch.not_run.append(f"resource model: not run, because {err}")
    try:
        found["synth"] = _cached_synth(ctx)
    except NeurocalError as err:
        found["synth"] = None
        notes.append(f"yosys look-up failed: {err}")
    if found["synth"] is None:
        scratch.not_run.append("yosys: not run, because no cached 'neurocal rtl synth' report matches this network "
                               f"and profile under {ctx.build_root} (run 'neurocal rtl synth --bundle "
                               f"{ctx.bundle}', ~50 min at 400-50-30-1)")
    found["shape"] = shape
    ctx.published["hardware"] = found
    return found


class HardwareSection:
    name = "hardware"
    title = "Hardware: cycles, latency, resources"

    def build(self, ctx: Context) -> SectionResult:
        hw = hardware(ctx)
        out = SectionResult(not_run=list(hw["not_run"]), notes=list(hw["notes"]))
        rows = []
        for label, q in (("RTL", hw["rtl"]), ("cycle model", hw["model"])):
            if q is not None:
                rows.append([label, q["mean"], q["p99"], q["max"]])
                for k in ("mean", "p99", "max"):
                    out.numbers[f"cycles per event {k} ({label})"] = q[k]
        out.tables.append(Table("Cycles per event", ["from", "mean", "p99", "max"], rows))
        if "model_differs" in hw:
            out.numbers["events where the cycle model differs from the RTL"] = hw["model_differs"]
        out.numbers["clock"] = hw["clock"]
        out.numbers["latency mean"] = hw["latency"]
        out.numbers["latency max"] = hw["latency_max"]
        out.numbers["events per second, one at a time"] = hw["rate"]
        if hw["resources"] is not None:
            out.tables.append(Table("Resources (resource model)", ["resource", "count", "share of the part"],
                                    [[k, hw["resources"][k], hw["utilisation"][k]] for k in RESOURCES]))
            out.numbers.update({f"{k} (resource model)": hw["resources"][k] for k in RESOURCES})
        synth = hw["synth"]
        if synth is not None:
            how = f"yosys {synth['yosys']} (cached 'rtl synth' report)"
            out.tables.append(Table("Resources (yosys)", ["resource", "count"],
                                    [[k, measured(synth["resources"].get(k, 0.0), k, how)] for k in RESOURCES]))
            out.numbers.update({f"{k} (yosys)": measured(synth["resources"].get(k, 0.0), k, how) for k in RESOURCES})
            if synth.get("estimated_clock_mhz"):
                out.numbers["estimated clock (yosys, logic only)"] = measured(synth["estimated_clock_mhz"], "MHz", how)
        out.not_run.append("HLS pragma estimate: not run, because the firmware room offers no pragma estimate")
        out.not_run.append("Vivado/Vitis timing, utilisation and power: not run, because they need AMD's tools, "
                           "which are not installed here")
        lat = hw["latency"]
        out.headline = (f"latency: {show(lat)} per event (max {show(hw['latency_max'])}) at {show(hw['clock'])} from "
                        f"{hw['source']}, {show(hw['rate'])}")
        out.headline_key = "latency mean"
        return out


def _vivado_power(deploy: Path | None) -> tuple[float, Path] | None:
    if deploy is None:
        return None
    for path in sorted(deploy.rglob("*power*.rpt")):
        found = _POWER.search(path.read_text(errors="replace"))
        if found:
            return float(found.group(1)), path
    return None


def fpga_energy(ctx: Context) -> list:
    """The FPGA's energy per event: Vivado's power where a deploy folder has it, else the stated model."""
    try:
        hw = hardware(ctx)
    except NeurocalError as err:
        return [EnergyRow("FPGA", None, "", not_run=str(err))]
    clock, cycles = hw["clock"], (hw["rtl"] or hw["model"])["mean"]
    vivado = _vivado_power(ctx.deploy)
    if vivado is not None:
        power = stated(vivado[0], "W", f"Vivado report_power, {vivado[1]}")
        e = derived("power * cycles / (clock_mhz * 1e6)", "J", power=power, cycles=cycles, clock_mhz=clock)
        return [EnergyRow(f"FPGA ({ctx.profile})", e, "Vivado power report × latency")]
    if hw["resources"] is None:
        return [EnergyRow("FPGA", None, "", not_run="no resource estimate for the power model")]
    r = hw["resources"]
    e = derived("(p_static + clock_mhz * 1e6 * toggle * (lut * e_lut + ff * e_ff + bram * e_bram + dsp * e_dsp)"
                " * 1e-12) * cycles / (clock_mhz * 1e6)", "J",
                p_static=constant(energy.FPGA_STATIC_POWER), toggle=constant(energy.FPGA_TOGGLE_RATE),
                lut=r["LUT"], ff=r["FF"], bram=r["BRAM36"], dsp=r["DSP"],
                e_lut=constant(energy.FPGA_LUT_TOGGLE_ENERGY), e_ff=constant(energy.FPGA_FF_TOGGLE_ENERGY),
                e_bram=constant(energy.FPGA_BRAM_ACCESS_ENERGY), e_dsp=constant(energy.FPGA_DSP_OP_ENERGY),
                cycles=cycles, clock_mhz=clock)
    return [EnergyRow(f"FPGA ({ctx.profile})", e, "stated power model over the resource model × latency "
                      "(no Vivado power report)")]
