"""report.json → report.md (PNG plots beside it) and a self-contained report.html (plots as data: URIs).

The page needs no JavaScript and loads nothing from elsewhere. Each headline is an element with a
stable id, ``headline-<section>`` (physics, agreement, hardware, energy), whose ``data-value`` is the
headline number's ``value`` in report.json (``headlines[<section>].value``) and ``data-unit`` its unit.
"""

from __future__ import annotations

import base64
import html
from typing import Any

from neurocal.report.quantity import is_quantity, show


def _cell(value: Any) -> str:
    if is_quantity(value):
        return show(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# neurocal report — {report['inputs']['bundle']['path']}", "",
             f"Network `{report['inputs']['bundle']['content_hash'][:19]}…`, data `{report['inputs']['data']['path']}` "
             f"({report['inputs']['events']} events), profile {report['inputs']['profile']}.", ""]
    if report["headlines"]:
        lines += ["## Headlines", ""] + [f"- {h['text']}" for h in report["headlines"].values()] + [""]
    for section in report["sections"].values():
        lines += [f"## {section['title']}", ""]
        for reason in section["not_run"]:
            lines.append(f"- {reason}")
        if section["not_run"]:
            lines.append("")
        for table in section["tables"]:
            lines += [f"**{table['title']}**", "", "| " + " | ".join(table["columns"]) + " |",
                      "|" + "---|" * len(table["columns"])]
            lines += ["| " + " | ".join(_cell(c).replace("|", "\\|") for c in row) + " |" for row in table["rows"]]
            lines.append("")
        for fig in section["figures"]:
            lines += [f"![{fig['caption']}]({fig['file']})", "", f"*{fig['caption']}*", ""]
        lines += [f"{note}" for note in section["notes"]] + ([""] if section["notes"] else [])
    lines += ["## Constants and their sources", ""] + [f"- {c}" for c in report["constants"]] + [""]
    return "\n".join(lines)


_STYLE = ("body{font-family:sans-serif;max-width:70em;margin:1em auto;padding:0 1em;color:#222}"
          "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.2em .5em;"
          "text-align:left}th{background:#eee}.notrun{color:#a33}.headline{font-weight:bold}img{max-width:100%}")


def page(report: dict[str, Any], images: dict[str, bytes]) -> str:
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>neurocal report — {e(report['inputs']['bundle']['path'])}</title>",
           f"<style>{_STYLE}</style></head><body>",
           f"<h1>neurocal report</h1><p>Network <code>{e(report['inputs']['bundle']['content_hash'][:19])}…</code>, "
           f"data <code>{e(report['inputs']['data']['path'])}</code> ({report['inputs']['events']} events), "
           f"profile {e(report['inputs']['profile'])}.</p>"]
    if report["headlines"]:
        out.append("<h2>Headlines</h2><ul>")
        for name, h in report["headlines"].items():
            out.append(f'<li class="headline" id="headline-{e(name)}" data-value="{h["value"]!r}" '
                       f'data-unit="{e(h["unit"])}">{e(h["text"])}</li>')
        out.append("</ul>")
    for name, section in report["sections"].items():
        out.append(f'<h2 id="section-{e(name)}">{e(section["title"])}</h2>')
        if section["not_run"]:
            out.append('<ul class="notrun">' + "".join(f"<li>{e(r)}</li>" for r in section["not_run"]) + "</ul>")
        for table in section["tables"]:
            out.append(f"<table><caption>{e(table['title'])}</caption><tr>"
                       + "".join(f"<th>{e(c)}</th>" for c in table["columns"]) + "</tr>")
            for row in table["rows"]:
                out.append("<tr>" + "".join(f"<td>{e(_cell(c))}</td>" for c in row) + "</tr>")
            out.append("</table>")
        for fig in section["figures"]:
            data = base64.b64encode(images[fig["file"]]).decode()
            out.append(f'<figure><img src="data:image/png;base64,{data}" alt="{e(fig["caption"])}">'
                       f"<figcaption>{e(fig['caption'])}</figcaption></figure>")
        out += [f"<p>{e(note)}</p>" for note in section["notes"]]
    out.append("<h2>Constants and their sources</h2><ul>" + "".join(f"<li>{e(c)}</li>" for c in report["constants"])
               + "</ul></body></html>")
    return "\n".join(out) + "\n"
