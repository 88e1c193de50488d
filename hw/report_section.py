"""The report's **hardware** section and the FPGA's energy row, for the build that is (or would be) deployed.

* the build: with ``--deploy D`` the shape and board of ``D/deploy.json`` (the build ``deploy build`` fitted);
  without, the shape :func:`neurocal.hw.fit.fit_network` fits to the report's profile — never the unfitted
  default. A build over its profile's fit limits is flagged with the numbers per resource
  (:func:`neurocal.hw.fit.violations`);
* cycles per event (mean, p99, max) **measured** where a run of that build exists: the deploy folder's driver
  over the RTL, one event at a time (each event's ``LAST_CYCLES``), or an RTL backend row whose build shape is
  the same; beside them the cycle model's prediction (:mod:`neurocal.hw.costmodel`) for that shape and those
  events, which must agree exactly (the count of events where it does not is reported). An RTL row of another
  shape (the backends' debug/simulation builds) is compared with the model for its own shape but not used for
  latency; without a measured run the model's prediction stands alone, said so;
* latency ``t = cycles · 1000 / f_MHz`` ns and events per second one at a time ``f_MHz · 10⁶ / cycles`` at
  the profile's clock (:mod:`neurocal.profiles`) and, where ``rtl synth`` cached a yosys report for this build
  under ``--build-root``, at yosys's logic-only clock estimate (the honest figure; a clock estimate below the
  profile's is flagged);
* LUT/FF/BRAM36/DSP from the resource model (:mod:`neurocal.hw.resource_model`) and yosys's counts where cached;
* FPGA energy per event ``E = P · cycles / f`` with ``P`` from Vivado's ``report_power`` in a deploy
  folder, else the stated model ``P = P_static + f · α · (LUT·e_LUT + FF·e_FF + BRAM·e_BRAM + DSP·e_DSP)``
  (constants and sources in :mod:`neurocal.energy`).
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from neurocal import energy
from neurocal.errors import NeurocalError
from neurocal.profiles import Profile, profile
from neurocal.regmap import PROFILE_NONE
from neurocal.report.quantity import Quantity, constant, derived, measured, show, stated
from neurocal.report.section import Context, EnergyRow, SectionResult, Table

RTL_BACKENDS = ("rtl-verilator", "rtl-icarus")
RESOURCES = ("LUT", "FF", "BRAM36", "DSP")
_POWER = re.compile(r"Total On-Chip Power \(W\)\s*\|\s*([0-9.]+)")


def _dash(values: Any) -> str:
    return "-".join(str(v) for v in values)


def describe(shape: Any) -> str:
    """``lanes 50-15-1, banks 8-1-1, 2 words``: the knobs that set a build's cycles."""
    return f"lanes {_dash(shape.lanes)}, LIF lanes {_dash(shape.lif_lanes)}, banks {_dash(shape.rows)}, " \
           f"{shape.words} words"


def same_build(a: Any, b: Any) -> bool:
    """Whether two shapes are one build as far as cycles go: equal but for the debug monitor (``dbg_*`` only
    watches handshakes) and the PROFILE register, neither of which changes a cycle."""
    return (dataclasses.replace(a, debug=False, profile_id=PROFILE_NONE)
            == dataclasses.replace(b, debug=False, profile_id=PROFILE_NONE))


def _rtl_row(ctx: Context, out: SectionResult) -> dict[str, Any] | None:
    for name in RTL_BACKENDS:
        if name in ctx.backends:
            try:
                return ctx.backend_row(name)
            except NeurocalError as err:
                out.not_run.append(f"{name} cycles: not run, because {err}")
    return None


def _deploy_row(ctx: Context, out: SectionResult) -> dict[str, Any] | None:
    """The deploy folder's agreement row (its ``deploy`` info, and ``cycles`` where the driver ran), if any."""
    if ctx.deploy is None:
        return None
    rows = ctx.provided_rows()
    found = next((r for r in rows if "deploy" in r), None)
    if found is None:
        reason = next((r["not_run"] for r in rows if "not_run" in r), "no installed room reads deploy folders")
        out.notes.append(f"--deploy {ctx.deploy} is not used for the hardware section, because {reason}; the build "
                         "shown is the one fitted to the report's profile")
    return found


def _cached_synth(ctx: Context, shape: Any, part: Profile) -> dict[str, Any] | None:
    """The yosys report ``neurocal rtl synth --profile P`` cached for this network's build of ``shape``, if any."""
    import json

    from neurocal.hw.cosim import shape_key
    from neurocal.hw.generate import HwConfig, generate
    from neurocal.hw.sources import rtl_dir, rtl_sources
    from neurocal.hw.synth import content_key, yosys_version

    with tempfile.TemporaryDirectory(prefix="neurocal-report-") as tmp:
        project = generate(ctx.net, Path(tmp) / f"gen-{shape_key(shape)}", HwConfig(), shape=shape,
                           command="neurocal rtl synth")
        key = content_key(project, yosys_version(), [*rtl_sources(), *sorted(rtl_dir().glob("*.vh"))], part)
    path = Path(ctx.build_root).resolve() / f"synth-{key[:16]}" / "report.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return data if data.get("key") == key else None


def _model_cycles(ctx: Context, shape: Any, serial: bool) -> np.ndarray:
    """The cycle model's cycles per event of ``shape`` on the report's events (cached stage)."""
    from neurocal.hw.costmodel import predict_run
    from neurocal.report.cache import code_digest

    def model() -> dict[str, Any]:
        golden = ctx.result("golden")
        return {"cycles": predict_run(shape, ctx.spikes, golden, serial=serial).cycles.astype(int).tolist()}

    return np.asarray(ctx.stage("cycle-model", model, shape=repr(shape), serial=serial,
                                code=code_digest(__name__))["cycles"], dtype=float)


def _stats(cycles: np.ndarray, how: str) -> dict[str, Quantity]:
    return {"mean": measured(float(cycles.mean()), "cycles", how),
            "p99": measured(float(np.percentile(cycles, 99)), "cycles", how),
            "max": measured(float(cycles.max()), "cycles", how)}


def _timing(basis: dict[str, Quantity], clock: Quantity) -> dict[str, Quantity]:
    """Latency (mean, max) and events per second one at a time of ``basis`` cycles at ``clock``."""
    return {"latency mean": derived("cycles * 1000 / clock_mhz", "ns", cycles=basis["mean"], clock_mhz=clock),
            "latency max": derived("cycles * 1000 / clock_mhz", "ns", cycles=basis["max"], clock_mhz=clock),
            "events per second (one at a time)": derived("clock_mhz * 1e6 / cycles", "events/s", cycles=basis["mean"],
                                                        clock_mhz=clock)}


def _build(ctx: Context, out: SectionResult) -> tuple[Any, Profile, str, dict[str, Any] | None]:
    """The build the section is about: its shape, profile, where it comes from, and the deploy row."""
    from neurocal.hw.core import RtlCore
    from neurocal.hw.fit import fit_network
    from neurocal.hw.generate import HwConfig, shape_from_config

    row = _deploy_row(ctx, out)
    if row is not None:
        info = row["deploy"]
        if info["core"] != RtlCore.name:
            raise NeurocalError(f"--deploy {ctx.deploy}: deploy.json field 'core' is {info['core']!r}, the hardware "
                                f"section knows the {RtlCore.name!r} core; re-create it with 'neurocal deploy build'")
        part = profile(info["board"])
        if part.name != ctx.profile:
            out.notes.append(f"the deploy folder is for the {part.name}: its profile is used, not --profile "
                             f"{ctx.profile}")
        return RtlCore().shape_from_dict(info["shape"]), part, f"deployed build ({info['folder']})", row
    part = profile(ctx.profile)
    try:
        return fit_network(ctx.net, part).shape, part, f"build fitted to the {part.name} (hw/fit.py)", None
    except NeurocalError as err:
        out.notes.append(f"NO BUILD FITS the {part.name}: {err}; the section shows the unfitted default build")
        return shape_from_config(ctx.net, HwConfig()), part, "unfitted default build (none fits)", None


def hardware(ctx: Context) -> dict[str, Any]:
    """Everything the section and the FPGA energy row need (computed once per report)."""
    if "hardware" in ctx.published:
        return ctx.published["hardware"]
    from neurocal.hw.fit import violations
    from neurocal.hw.resource_model import estimate

    scratch = SectionResult()
    shape, part, origin, deploy_row = _build(ctx, scratch)
    notes, not_run = scratch.notes, scratch.not_run
    found: dict[str, Any] = {"shape": shape, "origin": origin, "profile": part.name, "notes": notes,
                             "not_run": not_run, "measured": None}
    over = violations(shape, part)
    found["over"] = over
    if over:
        notes.insert(0, f"DOES NOT FIT the {part.name} ({part.part}): the {origin}, {describe(shape)}: "
                        + "; ".join(over))

    # measured cycles: the deploy folder's driver (one event at a time), else an RTL row of this very build
    serial, how = True, None
    if deploy_row is not None and "cycles" in deploy_row:
        measured_cycles = np.asarray(deploy_row["cycles"], dtype=float)
        how = f"{deploy_row['backend']}: LAST_CYCLES per event, one event at a time, {len(measured_cycles)} events"
        found["source"] = deploy_row["backend"]
    elif deploy_row is not None:
        not_run.append(f"driver cycles: not run, because {deploy_row['not_run']}")
    rtl = _rtl_row(ctx, scratch)
    if rtl is not None:
        rtl_shape = None
        if rtl.get("hw_shape"):
            from neurocal.hw.core import RtlCore

            rtl_shape = RtlCore().shape_from_dict(rtl["hw_shape"])
        rtl_serial = bool(rtl.get("serial", False))
        if how is None and rtl_shape is not None and same_build(rtl_shape, shape):
            measured_cycles, serial = np.asarray(rtl["cycles"], dtype=float), rtl_serial
            how = (f"{rtl['backend']} simulation, {len(measured_cycles)} events "
                   f"({'serial' if serial else 'streamed'})")
            found["source"] = rtl["backend"]
        else:
            cycles = np.asarray(rtl["cycles"], dtype=float)
            if rtl_shape is None:
                why = "its build shape is not recorded"
            elif same_build(rtl_shape, shape):
                why = "the deploy folder's driver measured the deployed build itself"
            else:
                why = f"they come from a debug/simulation build of another shape ({describe(rtl_shape)})"
            line = (f"{rtl['backend']} cycles (mean {cycles.mean():.1f}, max {cycles.max():.0f}, "
                    f"{'serial' if rtl_serial else 'streamed'}): not used for latency, because {why}, not the "
                    f"{origin} ({describe(shape)})")
            if rtl_shape is not None:
                other = _model_cycles(ctx, rtl_shape, rtl_serial)
                line += f"; the cycle model for that shape differs on {int((cycles != other).sum())} of " \
                        f"{len(cycles)} events"
                found["rtl_model_differs"] = measured(int((cycles != other).sum()), "events",
                                                      f"cycle model vs {rtl['backend']}, that build's shape")
            notes.append(line)
    predicted = _model_cycles(ctx, shape, serial)
    model_src = f"cycle model of the {origin} ({'serial' if serial else 'streamed'} events)"
    found["model"] = _stats(predicted, model_src)
    if how is not None:
        found["measured"] = _stats(measured_cycles, how)
        found["model_differs"] = measured(int((measured_cycles != predicted).sum()), "events",
                                          f"cycle model vs {found['source']}")
    else:
        found["source"] = "cycle model"
        not_run.append(f"measured cycles: not run, because neither a deploy folder's driver nor an RTL backend ran "
                       f"the {origin}; the cycle model's prediction stands alone")

    clock = stated(part.clock_mhz, "MHz", f"profile {part.name}: PL clock (neurocal/profiles.py)")
    found["clock"] = clock
    basis = found["measured"] or found["model"]
    found["timing"] = {"profile clock": _timing(basis, clock)}
    try:
        est = estimate(shape)
        trust = "" if est.current else " (fitted on other RTL sources: re-fit with benchmarks/calibrate_resources.py)"
        found["resources"] = {k: measured(est.resources[k], k, f"resource model{trust}") for k in RESOURCES}
        found["utilisation"] = {k: derived("used / available", "1", used=found["resources"][k],
                                           available=stated(part.resources[k], k, f"profile {part.name}"))
                                for k in RESOURCES}
    except NeurocalError as err:
        found["resources"] = None
        not_run.append(f"resource model: not run, because {err}")
    try:
        found["synth"] = _cached_synth(ctx, shape, part)
    except NeurocalError as err:
        found["synth"] = None
        notes.append(f"yosys look-up failed: {err}")
    synth = found["synth"]
    if synth is None:
        not_run.append(f"yosys: not run, because no cached 'neurocal rtl synth' report matches the {origin} under "
                       f"{ctx.build_root} (run 'neurocal rtl synth --bundle {ctx.bundle} --profile {part.name}', "
                       "~50 min at 400-50-30-1); latency is given at the profile's clock only")
    elif synth.get("estimated_clock_mhz"):
        est_clock = measured(float(synth["estimated_clock_mhz"]), "MHz",
                             f"yosys {synth['yosys']} (cached 'rtl synth' report): logic delay plus a routing "
                             "allowance, an estimate, not Vivado timing")
        found["estimated_clock"] = est_clock
        found["timing"]["estimated clock"] = _timing(basis, est_clock)
        if est_clock["value"] < part.clock_mhz:
            notes.insert(0, f"CLOCK BELOW THE PROFILE: yosys estimates {est_clock['value']:.0f} MHz for the {origin}, "
                            f"below the {part.name}'s {part.clock_mhz:g} MHz; the latency at the estimate is the "
                            "honest figure")
    ctx.published["hardware"] = found
    return found


class HardwareSection:
    name = "hardware"
    title = "Hardware: cycles, latency, resources"

    def build(self, ctx: Context) -> SectionResult:
        hw = hardware(ctx)
        out = SectionResult(not_run=list(hw["not_run"]), notes=list(hw["notes"]))
        out.notes.insert(0, f"build: the {hw['origin']}, {describe(hw['shape'])}, for the {hw['profile']}")
        out.numbers["resources over the profile's fit limits"] = measured(
            len(hw["over"]), "resources", f"resource model vs the {hw['profile']}'s fit limits (hw/fit.py)")
        rows = []
        label = hw["source"] if hw["measured"] is not None else None
        for name, q in ((label, hw["measured"]), ("cycle model", hw["model"])):
            if q is not None:
                rows.append([name, q["mean"], q["p99"], q["max"]])
                key = "measured" if name != "cycle model" else name
                for k in ("mean", "p99", "max"):
                    out.numbers[f"cycles per event {k} ({key})"] = q[k]
        out.tables.append(Table("Cycles per event", ["from", "mean", "p99", "max"], rows))
        if "model_differs" in hw:
            out.numbers["events where the cycle model differs from the measured cycles"] = hw["model_differs"]
        if "rtl_model_differs" in hw:
            out.numbers["events where the cycle model differs from the RTL backend's build"] = hw["rtl_model_differs"]
        out.numbers["clock"] = hw["clock"]
        if "estimated_clock" in hw:
            out.numbers["estimated clock (yosys, logic only)"] = hw["estimated_clock"]
        for at, timing in hw["timing"].items():
            out.numbers.update({f"{name} at the {at}": q for name, q in timing.items()})
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
        out.not_run.append("HLS pragma estimate: not run, because the firmware room offers no pragma estimate")
        out.not_run.append("Vivado/Vitis timing, utilisation and power: not run, because they need AMD's tools, "
                           "which are not installed here")
        flags = "; DOES NOT FIT the profile" if hw["over"] else ""
        at_profile = hw["timing"]["profile clock"]
        if "estimated_clock" in hw:
            t = hw["timing"]["estimated clock"]
            where = (f"at the yosys-estimated {show(hw['estimated_clock'])} ({show(at_profile['latency mean'])} at "
                     f"the {hw['profile']}'s {show(hw['clock'])})")
            out.headline_key = "latency mean at the estimated clock"
        else:
            t = at_profile
            where = f"at the {hw['profile']}'s {show(hw['clock'])} (no yosys clock estimate for this build)"
            out.headline_key = "latency mean at the profile clock"
        out.headline = (f"latency: {show(t['latency mean'])} per event (max {show(t['latency max'])}) {where}, "
                        f"{show(t['events per second (one at a time)'])}, from {hw['source']} on the "
                        f"{hw['origin']}{flags}")
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
    clock, cycles = hw["clock"], (hw["measured"] or hw["model"])["mean"]
    vivado = _vivado_power(ctx.deploy)
    if vivado is not None:
        power = stated(vivado[0], "W", f"Vivado report_power, {vivado[1]}")
        e = derived("power * cycles / (clock_mhz * 1e6)", "J", power=power, cycles=cycles, clock_mhz=clock)
        return [EnergyRow(f"FPGA ({hw['profile']})", e, "Vivado power report × latency")]
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
    return [EnergyRow(f"FPGA ({hw['profile']})", e, "stated power model over the resource model × latency "
                      "(no Vivado power report)")]
