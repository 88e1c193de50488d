"""report.html in a real browser: Debian's headless Chromium, driven through its chromedriver by Selenium.

The page must load without a console error, every ``<img>`` must decode (``naturalWidth > 0``), and
each headline element (``id="headline-<section>"``) must show report.json's headline: its
``data-value`` and ``data-unit`` equal ``headlines[<section>].value``/``.unit``, its visible text
equals ``headlines[<section>].text``, and the page has no headline report.json lacks.

Selenium Manager is never asked for anything (it would download a driver): the Service names
``chromedriver`` and the options name ``chromium`` explicitly. ``make install`` puts both there
(Debian's ``chromium`` and ``chromium-driver``); the tests skip only where neither is installed and
the user cannot install them (not root).
"""

from __future__ import annotations

import base64
import html
import json
import os
import shutil
import struct
import zlib
from pathlib import Path
from typing import Any

import nir
import numpy as np
import pytest
from click.testing import CliRunner

from neurocal.cli import main
from neurocal.sim.dataset import write_h5
from neurocal.testnets import lif_graph
from tests.sim.helpers import random_events

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# what works headless as root on a machine without a GPU or network, starting from an empty profile
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")

_installed = Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()
pytestmark = pytest.mark.skipif(not _installed and os.geteuid() != 0,
                                reason="Chromium is not installed and only root can install it: "
                                       "apt-get install chromium chromium-driver")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium for the module (a fresh, empty profile), its console log kept at every level."""
    if not _installed:
        pytest.fail(f"{CHROMIUM} or {CHROMEDRIVER} is missing: `make install` installs Debian's chromium and "
                    "chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory) -> Path:
    """``neurocal report`` on a 400-12-3 bundle and 4 events: the sections that need no simulator build
    (agreement with the golden model only, operations, energy with its plot)."""
    root = tmp_path_factory.mktemp("tiny-report")
    rng = np.random.default_rng(1)
    nir.write(root / "m.nir", lif_graph([rng.normal(0, 0.25, (12, 400)), rng.normal(0, 0.3, (3, 12))]))
    write_h5(random_events(6, seed=3, n_ticks=20), root / "d.h5")
    runner = CliRunner()
    for args in (["quantize", root / "m.nir", "--data", root / "d.h5", "--out", root / "bundle"],
                 ["report", "--bundle", root / "bundle", "--data", root / "d.h5", "--out", root / "report",
                  "--events", "4", "--backends", "golden", "--sections", "agreement,operations,energy", "--no-cache"]):
        done = runner.invoke(main, [str(a) for a in args])
        assert done.exit_code == 0, done.output
    return root / "report"


_IMAGES = "return Array.from(document.images, i => [i.alt || i.src.slice(0, 40), i.complete, i.naturalWidth]);"
_HEADLINES = """return Array.from(document.querySelectorAll('[id^="headline-"]'), e => [e.id.slice(9),
    e.getAttribute('data-value'), e.getAttribute('data-unit'), e.innerText, e.offsetParent !== null]);"""


def page_problems(driver: Any, page: Path, report: dict[str, Any]) -> tuple[list[str], int]:
    """What is wrong with ``page`` opened in ``driver`` against ``report`` (report.json's content).

    Returns the problems (empty: the page is right) and the number of images checked.
    """
    driver.get_log("browser")  # drop what an earlier page left
    driver.get(page.resolve().as_uri())
    problems = [f"console: {e['level']} {e['message']}" for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    images = driver.execute_script(_IMAGES)
    problems += [f"image {name!r} does not decode" for name, complete, width in images if not (complete and width > 0)]
    shown = {name: rest for name, *rest in driver.execute_script(_HEADLINES)}
    for name, headline in report["headlines"].items():
        if name not in shown:
            problems.append(f"headline {name!r} of report.json is not on the page")
            continue
        value, unit, text, visible = shown.pop(name)
        if value is None or float(value) != float(headline["value"]):
            problems.append(f"headline {name!r}: page shows data-value {value}, report.json {headline['value']!r}")
        if unit != headline["unit"]:
            problems.append(f"headline {name!r}: page shows unit {unit!r}, report.json {headline['unit']!r}")
        if not visible or text.strip() != headline["text"]:
            problems.append(f"headline {name!r}: page text {text!r}{'' if visible else ' (hidden)'}, "
                            f"report.json {headline['text']!r}")
    problems += [f"headline {name!r} on the page is not in report.json" for name in shown]
    return problems, len(images)


def _png(width: int, height: int) -> bytes:
    """A grey RGB PNG, written by hand (zlib + CRCs) so the test needs no imaging library."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _handmade(folder: Path, *, broken: bool) -> tuple[Path, dict[str, Any]]:
    """A page shaped like report.html and its report.json; ``broken`` spoils one thing of each kind checked."""
    report = {"headlines": {"agreement": {"text": "agreement: 0 of 20 events differ", "value": 0, "unit": "events"},
                            "hardware": {"text": "latency 1.25 µs", "value": 1.25, "unit": "µs"}}}
    image = _png(4, 3)
    figures = [f'<img src="data:image/png;base64,{base64.b64encode(image).decode()}" alt="plot">']
    items = [(name, h["value"]) for name, h in report["headlines"].items()]
    script = ""
    if broken:
        figures.append(f'<img src="data:image/png;base64,{base64.b64encode(image[:40]).decode()}" alt="torn plot">')
        items[1] = ("hardware", 1.5)
        script = "<script>undefinedFunction();</script>"
    lis = "".join(f'<li class="headline" id="headline-{name}" data-value="{value!r}" '
                  f'data-unit="{html.escape(report["headlines"][name]["unit"])}">'
                  f'{html.escape(report["headlines"][name]["text"])}</li>' for name, value in items)
    page = folder / "report.html"
    page.write_text(f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>'
                    f'<ul>{lis}</ul>{"".join(figures)}{script}</body></html>\n')
    (folder / "report.json").write_text(json.dumps(report))
    return page, report


def test_the_checks_pass_a_right_page_and_catch_each_fault(browser, tmp_path):
    """The harness itself: a right page passes; a page with a script error, a torn image and a headline
    that disagrees with report.json fails on exactly those three."""
    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    assert page_problems(browser, *_handmade(tmp_path / "good", broken=False)) == ([], 1)
    problems, images = page_problems(browser, *_handmade(tmp_path / "bad", broken=True))
    assert images == 2 and len(problems) == 3, problems
    assert "console: SEVERE" in problems[0] and "undefinedFunction is not defined" in problems[0]
    assert problems[1] == "image 'torn plot' does not decode"
    assert problems[2] == "headline 'hardware': page shows data-value 1.5, report.json 1.25"


def test_the_report_page_loads_clean_with_every_image_and_report_jsons_headlines(browser, tiny_report):
    report = json.loads((tiny_report / "report.json").read_text())
    assert {"agreement", "energy"} <= set(report["headlines"])
    problems, images = page_problems(browser, tiny_report / "report.html", report)
    assert problems == []
    assert images == sum(len(s["figures"]) for s in report["sections"].values()) >= 1  # the energy plot at least
