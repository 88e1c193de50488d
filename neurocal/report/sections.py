"""The spine's sections: agreement between backends, operations per layer, energy per target.

Operations follow NeuroBench's definitions (Yik et al., "The neurobench framework for benchmarking
neuromorphic computing algorithms and systems", Nature Communications 16, 1545 (2025); code
``neurobench/metrics/workload/``):

* **synaptic operations** (``SynapticOperations``, "Effective_ACs" for a spiking layer): one
  accumulate per presynaptic spike per postsynaptic target, ``synops_l = Σ_t s_{l−1}(t) · n_l`` for a
  dense layer; "Dense" counts every synapse every tick, ``n_{l−1} · n_l · T'`` (T' = T + L ticks run);
* **neuron updates**: every neuron of a layer updated every tick, ``n_l · T'`` (the dense count; the
  hardware and the golden model update every neuron every tick; NeuroBench's ``MembraneUpdates``
  counts only updates that change the membrane and is ≤ this);
* **activation sparsity** (``ActivationSparsity``): the share of zero activations,
  ``1 − spikes_l / (n_l · T')``.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from neurocal import energy
from neurocal.backends import available_backends
from neurocal.errors import NeurocalError
from neurocal.report.quantity import constant, derived, measured, show
from neurocal.report.section import (
    Context,
    EnergyRow,
    Figure,
    SectionResult,
    Table,
    energy_providers,
)

NEUROBENCH = ("NeuroBench (Yik et al., Nat. Commun. 16, 1545 (2025); neurobench/metrics/workload/"
              "synaptic_operations.py, activation_sparsity.py)")


def png(fig: Any) -> bytes:
    """A matplotlib figure as PNG bytes (closed afterwards)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


class AgreementSection:
    """One row per backend run on the report's events, compared with the golden model spike for spike and
    voltage for voltage."""

    name = "agreement"
    title = "Agreement between backends"

    def build(self, ctx: Context) -> SectionResult:
        out = SectionResult()
        installed = available_backends()
        rows, ran, found = [], [], []
        for name in ctx.backends:
            if name not in installed:
                found.append({"backend": name, "not_run": f"no backend of that name is installed (installed: "
                                                          f"{', '.join(sorted(installed))})"})
                continue
            try:
                found.append(ctx.backend_row(name))
            except NeurocalError as err:
                found.append({"backend": name, "not_run": str(err)})
        found.extend(ctx.provided_rows())
        skipped = {}
        for row in found:
            name = row["backend"]
            if "not_run" in row:
                out.not_run.append(f"{name}: not run, because {row['not_run']}")
                skipped[name] = row["not_run"]
                continue
            ran.append(row)
            first = row["first_divergence"]
            where = "—" if first is None else ", ".join(f"{k} {first[k]}" for k in ("event", "layer", "tick",
                                                                                     "neuron") if k in first)
            rows.append([name, row["events"], row["mismatched_events"], where,
                         measured(row["seconds"], "s", f"{name} run")])
            out.numbers[f"{name}: mismatched events"] = measured(row["mismatched_events"], "events",
                                                                 f"{name} vs golden")
        ctx.published["agreement"] = {"ran": ran, "not_run": skipped}  # for --junit
        if ctx.deploy is None:
            out.not_run.append("driver over the RTL: not run, because no --deploy folder was given")
        if "board" not in ctx.backends:
            out.not_run.append("board: not run, because 'board' is not among --backends (it needs a PYNQ board "
                               "and NEUROCAL_DEPLOY)")
        if rows:
            out.tables.append(Table("Backends against the golden model", ["backend", "events", "mismatched events",
                                                                          "first divergence", "seconds"], rows))
            others = [r for r in ran if r["backend"] != "golden"]
            bad = sum(r["mismatched_events"] for r in others)
            out.numbers["mismatched events, all backends"] = measured(bad, "events", "sum over the backends")
            names = ", ".join(r["backend"] for r in others) or "golden only"
            verdict = "bit-exact" if bad == 0 else f"{bad} mismatched events"
            out.headline = f"agreement: {names} vs golden on {ctx.n_events} events: {verdict}"
            out.headline_key = "mismatched events, all backends"
        return out


def operations(ctx: Context) -> dict[str, Any]:
    """Per layer per event (means over the report's events) from the golden model's counts, as quantities."""
    ops = {k: np.asarray(v, dtype=np.float64) for k, v in ctx.backend_row("golden")["ops"].items()}
    sizes = [ctx.net.n_inputs, *(layer.n_out for layer in ctx.net.layers)]
    n = ctx.n_events
    layers = []
    for i, layer in enumerate(ctx.net.layers):
        how = f"golden model, mean over {n} events"
        updates = measured(float(ops["neuron_updates"][:, i].mean()), "updates/event", how)
        synops = measured(float(ops["synops"][:, i].mean()), "synops/event", how)
        spikes = measured(float(ops["spikes"][:, i].mean()), "spikes/event", how)
        n_out = measured(layer.n_out, "neurons", "intnet.json")
        n_in = measured(sizes[i], "inputs", "intnet.json")
        ticks = derived("updates / n_out", "ticks", updates=updates, n_out=n_out)
        layers.append({
            "layer": layer.name, "synops": synops, "neuron_updates": updates, "spikes": spikes,
            "dense_synops": derived("n_in * n_out * ticks", "synops/event", n_in=n_in, n_out=n_out, ticks=ticks),
            "activation_sparsity": derived("1 - spikes / (n_out * ticks)", "1", spikes=spikes, n_out=n_out,
                                           ticks=ticks),
        })
    input_spikes = measured(float(ctx.spikes.sum(axis=(1, 2)).mean()), "spikes/event",
                            f"input spikes, mean over {n} events")
    total = {
        "synops": derived(" + ".join(f"s{i}" for i in range(len(layers))), "synops/event",
                          **{f"s{i}": row["synops"] for i, row in enumerate(layers)}),
        "neuron_updates": derived(" + ".join(f"u{i}" for i in range(len(layers))), "updates/event",
                                  **{f"u{i}": row["neuron_updates"] for i, row in enumerate(layers)}),
        "spikes": derived(" + ".join(["x", *(f"s{i}" for i in range(len(layers)))]), "spikes/event", x=input_spikes,
                          **{f"s{i}": row["spikes"] for i, row in enumerate(layers)}),
    }
    return {"layers": layers, "input_spikes": input_spikes, "total": total}


class OperationsSection:
    name = "operations"
    title = "Operations per event"

    def build(self, ctx: Context) -> SectionResult:
        out = SectionResult()
        found = operations(ctx)
        rows = []
        for row in found["layers"]:
            rows.append([row["layer"], row["synops"], row["dense_synops"], row["neuron_updates"], row["spikes"],
                         row["activation_sparsity"]])
            for key in ("synops", "neuron_updates", "spikes", "activation_sparsity"):
                out.numbers[f"{row['layer']}: {key}"] = row[key]
        out.tables.append(Table("Per layer, mean per event (golden model)",
                                ["layer", "synaptic ops (effective)", "synaptic ops (dense)", "neuron updates",
                                 "spikes", "activation sparsity"], rows))
        out.numbers["input spikes"] = found["input_spikes"]
        for key, q in found["total"].items():
            out.numbers[f"total {key}"] = q
        out.notes.append(f"Definitions: {NEUROBENCH}; see the module docstring of neurocal.report.sections.")
        return out


def loihi_row(ctx: Context) -> EnergyRow:
    total = operations(ctx)["total"]
    e = derived("synops * e_synop * 1e-12 + updates * e_update * 1e-12 + spikes * e_spike * 1e-12", "J",
                synops=total["synops"], updates=total["neuron_updates"], spikes=total["spikes"],
                e_synop=constant(energy.LOIHI_SYNOP), e_update=constant(energy.LOIHI_NEURON_UPDATE_ACTIVE),
                e_spike=constant(energy.LOIHI_SPIKE_WITHIN_TILE))
    return EnergyRow("Loihi", e, "published per-operation figures; every update counted as active (upper bound)")


def cpu_row(ctx: Context) -> EnergyRow:
    row = ctx.backend_row("golden")
    events = measured(row["events"], "events", "golden model run")
    if "rapl_joules" in row:
        e = derived("joules / events", "J", joules=measured(row["rapl_joules"], "J", "RAPL package counter "
                                                            "around the golden model run"), events=events)
        return EnergyRow("CPU (golden model)", e, "measured (RAPL)")
    cpu = measured(row["cpu_seconds"], "s", "process CPU time of the golden model run")
    e = derived("cpu_seconds / events * power", "J", cpu_seconds=cpu, events=events,
                power=constant(energy.CPU_CORE_POWER))
    return EnergyRow("CPU (golden model)", e, "measured CPU time × stated power (RAPL not readable here)")


class EnergySection:
    name = "energy"
    title = "Energy per event"

    def build(self, ctx: Context) -> SectionResult:
        out = SectionResult()
        rows: list[EnergyRow] = [loihi_row(ctx), cpu_row(ctx)]
        for provider in energy_providers():
            rows.extend(provider(ctx))
        table = []
        for row in rows:
            if row.energy is None:
                out.not_run.append(f"{row.target}: not run, because {row.not_run}")
                continue
            out.numbers[row.target] = row.energy
            used = "; ".join(f"{k} = {show(q)} ({q['source']})" for k, q in row.energy["inputs"].items()
                             if "source" in q)
            table.append([row.target, row.energy, row.basis, used or "—"])
        out.tables.append(Table("Energy per event by target", ["target", "energy per event", "basis",
                                                               "constants (source)"], table))
        if table:
            out.figures.append(Figure("energy.png", _energy_plot(table), "Energy per event by target (log scale)"))
            key = next((r[0] for r in table if r[0].startswith("FPGA")), table[0][0])
            out.headline = f"energy per event: {key} {show(out.numbers[key])}; " + ", ".join(
                f"{r[0]} {show(r[1])}" for r in table if r[0] != key)
            out.headline_key = key
        return out


def _energy_plot(table: list[list[Any]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * len(table)))
    ax.barh([r[0] for r in table], [r[1]["value"] for r in table], color="tab:blue")
    ax.set_xscale("log")
    ax.set_xlabel("energy per event (J)")
    ax.invert_yaxis()
    return png(fig)
