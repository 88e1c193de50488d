"""The house rules, read from the source (AST, nothing imported): a room imports only the spine, and the spine
imports no room. Rooms reach each other through the spine's entry-point groups (backends, commands, cost models,
cores)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROOMS = {"neurocal.hw": "hw", "neurocal.models": "models", "neurocal.sim": "sim", "neurocal.firmware": "firmware",
         "neurocal.fpga": "fpga"}

#: spine modules that still import a room, and why; the test fails when one of them stops (shrink the list) and
#: when any other spine module starts
SPINE_EXEMPT = {
    "neurocal/cli/demo.py": "the demo is a script over the rooms' commands and functions (simulate, train, plot), "
                            "run as one command",
    "neurocal/cli/train.py": "the train-stage commands wrap neurocal.models; they belong in the models room as "
                             "neurocal.commands entries",
    "neurocal/cli/data.py": "the data-stage commands wrap neurocal.sim; they belong in the sim room as "
                            "neurocal.commands entries",
    "neurocal/cli/run.py": "quantize exports a training run (neurocal.models) and encodes events through the "
                           "network's front end (neurocal.sim.frontend)",
    "neurocal/bundle.py": "the events reader and the front ends live in neurocal.sim",
}


def room_imports(path: Path) -> list[str]:
    """``module (line N)`` for every import of a room in ``path`` (``from neurocal import hw`` counts too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"neurocal.{a.name}" for a in node.names] if node.module == "neurocal" else [node.module]
        for name in names:
            room = next((r for r in ROOMS if name == r or name.startswith(r + ".")), None)
            if room is not None:
                found.append(f"{name} (line {node.lineno})")
    return sorted(set(found))


def test_the_fpga_room_imports_only_the_spine() -> None:
    bad = {}
    for path in sorted((ROOT / "fpga").rglob("*.py")):
        other = [m for m in room_imports(path) if not m.startswith("neurocal.fpga")]
        if other:
            bad[str(path.relative_to(ROOT))] = other
    assert not bad, f"fpga/ imports another room (go through neurocal.cores or another spine module): {bad}"


def test_the_spine_imports_no_room() -> None:
    importing = {str(p.relative_to(ROOT)): room_imports(p) for p in sorted((ROOT / "neurocal").rglob("*.py"))}
    importing = {k: v for k, v in importing.items() if v}
    new = {k: v for k, v in importing.items() if k not in SPINE_EXEMPT}
    assert not new, f"the spine imports a room (add a spine protocol and an entry point instead): {new}"
    stale = sorted(set(SPINE_EXEMPT) - set(importing))
    assert not stale, f"no longer import a room: remove them from SPINE_EXEMPT: {stale}"


def test_the_checker_sees_every_form_of_import(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("import neurocal.hw.cosim\nfrom neurocal import sim\nfrom neurocal.models.data import x\n"
                      "def f():\n    import neurocal.firmware\nfrom neurocal import aer\nfrom . import hw\n")
    assert room_imports(source) == ["neurocal.firmware (line 5)", "neurocal.hw.cosim (line 1)",
                                    "neurocal.models.data (line 3)", "neurocal.sim (line 2)"]
