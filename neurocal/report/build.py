"""Assemble a report: run the chosen sections on one :class:`Context` and write the folder as a whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from neurocal import __version__
from neurocal.atomic import atomic_dir
from neurocal.errors import NeurocalError
from neurocal.report.quantity import is_quantity
from neurocal.report.render import markdown, page
from neurocal.report.section import ORDER, Context, SectionResult, available_sections

SCHEMA = "neurocal.report/1"
REPORT_KIND = "report"


def run_sections(ctx: Context, names: list[str]) -> dict[str, tuple[str, SectionResult]]:
    """``{name: (title, result)}`` for each of ``names`` (in the report's order); a section whose inputs are
    missing comes back with its "not run, because …" reasons."""
    found = available_sections()
    out: dict[str, tuple[str, SectionResult]] = {}
    for name in sorted(names, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER)):
        if name not in found:
            out[name] = (name, SectionResult(not_run=[f"not run, because no section '{name}' is installed "
                                                      f"(installed: {', '.join(sorted(found))})"]))
            continue
        section = found[name].load()()
        ctx.progress(f"section {name}")
        try:
            result = section.build(ctx)
        except NeurocalError as err:
            result = SectionResult(not_run=[f"not run, because {err}"])
        out[name] = (section.title, result)
    return out


def _constants(report: dict[str, Any]) -> list[str]:
    """Every constant with a source used anywhere in the report, once: 'value unit — source'."""
    seen: dict[str, None] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if is_quantity(node) and "source" in node:
                seen.setdefault(f"{node['value']:g} {node['unit']} — {node['source']}", None)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(report["sections"])
    return list(seen)


def assemble(ctx: Context, results: dict[str, tuple[str, SectionResult]], command: str) -> tuple[dict[str, Any],
                                                                                                 dict[str, bytes]]:
    """report.json's content and the PNGs it names."""
    images: dict[str, bytes] = {}
    sections: dict[str, Any] = {}
    headlines: dict[str, Any] = {}
    for name, (title, r) in results.items():
        figures = []
        for fig in r.figures:
            file = f"{name}-{fig.file}"
            images[file] = fig.png
            figures.append({"file": file, "caption": fig.caption})
        sections[name] = {"title": title, "status": "not run" if r.not_run and not (r.numbers or r.tables)
                          else "partial" if r.not_run else "ok",
                          "numbers": r.numbers, "tables": [vars(t) for t in r.tables], "figures": figures,
                          "not_run": r.not_run, "notes": r.notes}
        if r.headline is not None and r.headline_key is not None:
            q = r.numbers[r.headline_key]
            headlines[name] = {"text": r.headline, "number": r.headline_key, "value": q["value"], "unit": q["unit"]}
    report = {
        "schema": SCHEMA, "neurocal": __version__, "command": command,
        "inputs": {"bundle": {"path": str(ctx.bundle), "content_hash": ctx.net.content_hash},
                   "data": {"path": str(ctx.data), "sha256": ctx.data_sha256}, "events": ctx.n_events,
                   "profile": ctx.profile, "backends": ctx.backends,
                   "deploy": None if ctx.deploy is None else str(ctx.deploy),
                   "run": None if ctx.run is None else str(ctx.run)},
        "headlines": headlines, "sections": sections,
        "cache": {"hits": ctx.cache.hits, "misses": ctx.cache.misses},
    }
    report["constants"] = _constants(report)
    return report, images


def write_report(out: Path, report: dict[str, Any], images: dict[str, bytes]) -> None:
    """report.json, report.md, report.html and the PNGs, as a whole (nothing half-written on any failure)."""
    text = json.dumps(report, indent=1, allow_nan=False) + "\n"
    with atomic_dir(out, REPORT_KIND) as tmp:
        for file, data in images.items():
            (tmp / file).write_bytes(data)
        (tmp / "report.json").write_text(text)
        (tmp / "report.md").write_text(markdown(report))
        (tmp / "report.html").write_text(page(report, images))


def section_names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    known = set(available_sections())
    unknown = [n for n in names if n not in known]
    if not names or unknown:
        raise NeurocalError(f"--sections {text!r}: {'unknown ' + ', '.join(unknown) if unknown else 'empty'}; "
                            f"choose from {','.join(n for n in ORDER if n in known)}")
    return names


def junit_suite(ctx: Context) -> Any:
    """The agreement section as a JUnit suite: one case per backend compared with the golden model (failing on a
    mismatch with its first divergence), a skipped case per backend that could not run, saying why."""
    from neurocal.junit import Case, Suite, agreement_case

    found = ctx.published.get("agreement", {"ran": [], "not_run": {}})
    classname = "neurocal.report.agreement"
    cases = [agreement_case(f"{row['backend']} vs golden", classname, events=row["events"],
                            mismatched=row["mismatched"], first=row["first_divergence"], seconds=row["seconds"])
             for row in found["ran"] if row["backend"] != "golden"]
    cases += [Case(f"{name} vs golden", classname, skipped=reason) for name, reason in found["not_run"].items()]
    return Suite("neurocal report", cases, properties={"bundle": str(ctx.bundle), "content_hash": ctx.net.content_hash,
                                                        "data": str(ctx.data), "events": ctx.n_events})
