"""``neurocal report``: one folder with report.json, report.md, report.html and plots."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from neurocal.cli.options import COUNT, junit_option
from neurocal.profiles import DEFAULT_PROFILE, PROFILES

COMMANDS: list[click.Command] = []
DEFAULT_SECTIONS = "physics,agreement,operations,hardware,energy"
DEFAULT_BACKENDS = "golden,lava,hls,rtl-verilator,rtl-icarus"


@click.command("report")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="bundle dir or intnet.json")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="events (.h5/.dat)")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="report folder to write (as a whole)")
@click.option("--events", "n_events", type=COUNT, default=20, show_default=True,
              help="first N events of --data that every backend runs")
@click.option("--backends", default=DEFAULT_BACKENDS, show_default=True,
              help="backends of the agreement section (golden is always run: it is the reference)")
@click.option("--sections", "sections", default=DEFAULT_SECTIONS, show_default=True, help="sections to fill")
@click.option("--profile", "profile_name", type=click.Choice(sorted(PROFILES)), default=DEFAULT_PROFILE,
              show_default=True, help="part profile: the clock latencies are given at, the resources shares are of")
@click.option("--deploy", type=click.Path(path_type=Path), default=None,
              help="a deploy folder: its driver runs the events against the Verilator RTL (agreement), and a Vivado "
                   "power report in it gives the FPGA's power")
@click.option("--run", "run_dir", type=click.Path(path_type=Path), default=None,
              help="the training run of the bundle: the physics section evaluates it (refreshes its metrics.json)")
@click.option("--build-root", type=click.Path(path_type=Path), default=Path("build") / "rtl", show_default=True,
              help="where RTL simulators are built and 'rtl synth' reports are cached")
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path), default=None,
              help="stage cache folder (default: $NEUROCAL_REPORT_CACHE or ~/.cache/neurocal/report)")
@click.option("--no-cache", is_flag=True, help="run every stage again and keep nothing")
@junit_option("backend of the agreement section compared with the golden model")
def report_cmd(bundle: Path, data: Path, out: Path, n_events: int, backends: str, sections: str,
               profile_name: str, deploy: Path | None, run_dir: Path | None, build_root: Path,
               cache_dir: Path | None, no_cache: bool, junit: Path | None) -> None:
    """Write a report on BUNDLE: physics, agreement of the backends, operations, hardware and energy per event.

    Every number in report.json has a unit; a derived one names its formula and inputs, and every energy
    constant its source. A section that cannot be filled says why. Stages (backend runs, the cycle model) are
    cached by their inputs, so running the report again is fast.
    """
    from neurocal.atomic import check_output_dir
    from neurocal.bundle import load_network_and_spikes
    from neurocal.errors import NeurocalError
    from neurocal.report.build import REPORT_KIND, assemble, run_sections, section_names, write_report
    from neurocal.report.cache import StageCache, default_cache_dir, file_sha256
    from neurocal.report.section import Context

    names = section_names(sections)
    for option, path in (("--deploy", deploy), ("--run", run_dir)):
        if path is not None and not path.is_dir():
            raise NeurocalError(f"{option} {path}: not a folder; pass the folder itself")
    check_output_dir(out, "--out", REPORT_KIND)
    net, spikes = load_network_and_spikes(bundle, data, n_events)
    wanted = [b.strip() for b in backends.split(",") if b.strip()]
    ctx = Context(bundle=bundle, data=data, net=net, spikes=spikes, data_sha256=file_sha256(data), profile=profile_name,
                  backends=["golden", *(b for b in wanted if b != "golden")],
                  cache=StageCache(None if no_cache else (cache_dir or default_cache_dir())),
                  deploy=deploy, run=run_dir, build_root=build_root,
                  progress=lambda msg: click.echo(f"report: {msg}", err=True))
    results = run_sections(ctx, names)
    command = shlex.join(["neurocal", *sys.argv[1:]]) if sys.argv[1:2] == ["report"] else "neurocal report"
    report, images = assemble(ctx, results, command)
    write_report(out, report, images)
    if junit is not None:
        from neurocal.junit import write_junit
        from neurocal.report.build import junit_suite

        write_junit(junit, [junit_suite(ctx)])
    for headline in report["headlines"].values():
        click.echo(headline["text"])
    click.echo(f"wrote {out / 'report.html'} ({len(ctx.cache.hits)} cached stages, {len(ctx.cache.misses)} run)"
               + (f" and {junit}" if junit is not None else ""))


COMMANDS.append(report_cmd)
