"""The deploy folder's row of the report's agreement section: the events through the folder's own driver
against its core simulated by Verilator (``neurocal deploy run --target rtl-sim``), compared with the golden
model. The board itself is the ``board`` backend (``NEUROCAL_DEPLOY``), a row of its own where one is wired.

The driver runs the events one at a time (``serial``), so the row also holds every event's latency in cycles as
the core counts it (``cycles``, the ``LAST_CYCLES`` register read by the driver after each answer), and
``deploy``: what the hardware section needs of the folder (board, PL clock, core and its fitted shape) — on a
not-run row too, where the folder itself could be read.
"""

from __future__ import annotations

import time
from typing import Any

from neurocal.backends import compare_results
from neurocal.errors import NeurocalError
from neurocal.report.section import Context

SIM = "verilator"


def deploy_rows(ctx: Context) -> list[dict[str, Any]]:
    """One row (or a not-run reason) for ``ctx.deploy``; nothing without a deploy folder."""
    if ctx.deploy is None:
        return []
    from neurocal.fpga.deploy import deploy_core, load_deploy

    label = f"driver over the RTL ({SIM}, {ctx.deploy.name})"
    try:
        info, net, shape = load_deploy(ctx.deploy)
    except NeurocalError as err:
        return [{"backend": label, "not_run": str(err)}]
    deploy = {"folder": str(ctx.deploy), "board": info["board"], "clock_mhz": float(info["clock_mhz"]),
              "core": info["core"], "shape": info["shape"]}
    if net.content_hash != ctx.net.content_hash:
        return [{"backend": label, "deploy": deploy,
                 "not_run": f"--deploy {ctx.deploy} holds network {net.content_hash[:19]}…, "
                            f"not the report's {ctx.net.content_hash[:19]}…; build it from this bundle"}]

    def compute() -> dict[str, Any]:
        from neurocal.fpga.rtlsim import run_driver

        ctx.progress(f"running {ctx.n_events} events through {ctx.deploy}'s driver against {SIM}, one at a time")
        t0 = time.perf_counter()
        run = run_driver(info, net, shape, ctx.spikes, sim=SIM, build_root=ctx.build_root, serial=True)
        result = deploy_core(info).decode(net, run.words, ctx.spikes.shape, f"driver-rtl-{SIM}")
        cmp = compare_results(ctx.result("golden"), result)
        return {"backend": label, "events": ctx.n_events, "mismatched_events": int(cmp.n_mismatched),
                "mismatched": cmp.mismatched.tolist(),
                "first_divergence": cmp.first.to_dict() if cmp.first else None,
                "seconds": time.perf_counter() - t0, "device_seconds": float(run.device_seconds),
                "max_cycles": int(run.registers["MAX_CYCLES"]), "cycles": [int(c) for c in run.cycles],
                "serial": True}

    try:
        from neurocal.report.cache import code_digest

        row = ctx.stage("deploy-driver", compute, deploy=info.get("expected"), sim=SIM, serial=True,
                        code=code_digest(__name__))
    except NeurocalError as err:
        return [{"backend": label, "deploy": deploy, "not_run": str(err)}]
    return [{**row, "deploy": deploy}]
