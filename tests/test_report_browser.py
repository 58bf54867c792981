"""The HTML report as a browser draws it: headless Debian Chromium takes screenshots.

Skipped when Chromium is absent, unless the CI environment variable is set: then
the test fails, because CI installs Chromium (apt-get install -y chromium).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings

import numpy as np
import pytest

from matplotlib.ft2font import FT2Font

from report.charts import CHARTS, inline_svg, svg_text
from report.fonts import find_cjk_font, font_file
from report.write import write_report
from runfolder_fixture import make_run

PIL = pytest.importorskip("PIL.Image", reason="Pillow (a matplotlib dependency) is needed to read screenshots")

KNOWN = "西安咸阳国际机场三期扩建工程"
CELL_W, CELL_H, GAP = 660, 500, 20


def find_chromium() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    reason = "Debian chromium is not installed (/usr/bin/chromium); install it with: apt-get install -y chromium"
    if "CI" in os.environ:
        pytest.fail(f"{reason}. CI is set, so the browser test must run, not skip")
    pytest.skip(reason)


def screenshot(chromium: str, html_path, png_path, profile, width: int, height: int):
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png_path}",
               f"--window-size={width},{height}", f"file://{html_path}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert png_path.exists(), f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-2000:]}"
    return PIL.open(png_path).convert("RGB")


def ink(image) -> tuple[float, int]:
    """(share of pixels that are not near-white, number of distinct colours) of an image."""
    pixels = np.asarray(image, dtype=np.int32).reshape(-1, 3)
    dark = float((pixels.sum(axis=1) < 690).mean())
    return dark, len(np.unique(pixels[:, 0] * 65536 + pixels[:, 1] * 256 + pixels[:, 2]))


@pytest.fixture(scope="module")
def chromium():
    return find_chromium()


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory):
    folder = make_run(tmp_path_factory.mktemp("browser") / "baseline", seed=2021, iterations=2000)
    write_report(folder)
    return folder


def test_report_page_is_not_blank(chromium, report_folder, tmp_path):
    image = screenshot(chromium, report_folder / "report.html", tmp_path / "report.png", tmp_path / "profile",
                       1400, 6000)
    share, colours = ink(image)
    assert share > 0.05, f"the page is (nearly) blank: {share:.3%} ink"
    assert colours > 200, f"the page has only {colours} colours"
    top = image.crop((0, 0, 1400, 700))  # the headline and the start of the table
    assert ink(top)[0] > 0.02


def test_each_chart_is_present_and_drawn(chromium, report_folder, tmp_path):
    page = (report_folder / "report.html").read_text(encoding="utf-8")
    svgs = {}
    for name, _title in CHARTS:
        match = re.search(rf'<svg id="chart-{name}".*?</svg>', page, flags=re.S)
        assert match, f"chart {name} is missing from report.html"
        svgs[name] = match.group(0)
        drawing = len(re.findall(r"<(path|use|rect|polyline|line)\b", svgs[name]))
        assert drawing > 40, f"chart {name} has only {drawing} drawing elements"

    # One contact sheet, one chart per cell at known places: each cell must carry ink.
    cells = list(svgs.items()) + [("known-text", inline_svg(svg_text(KNOWN, fontsize=28), "t", "known-text", KNOWN))]
    parts = []
    for i, (name, svg) in enumerate(cells):
        x, y = (i % 2) * (CELL_W + GAP), (i // 2) * (CELL_H + GAP)
        sized = svg.replace("<svg ", '<svg width="100%" height="100%" ', 1)
        parts.append(f'<div style="position:absolute;left:{x}px;top:{y}px;width:{CELL_W}px;height:{CELL_H}px">'
                     f"{sized}</div>")
    sheet = tmp_path / "sheet.html"
    sheet.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0;background:#fff}'
                     "</style></head><body>" + "".join(parts) + "</body></html>", encoding="utf-8")
    rows = (len(cells) + 1) // 2
    image = screenshot(chromium, sheet, tmp_path / "sheet.png", tmp_path / "profile",
                       2 * CELL_W + GAP, rows * (CELL_H + GAP))
    for i, (name, _svg) in enumerate(cells):
        x, y = (i % 2) * (CELL_W + GAP), (i // 2) * (CELL_H + GAP)
        share, colours = ink(image.crop((x, y, x + CELL_W, y + CELL_H)))
        least = 0.004 if name == "known-text" else 0.03
        assert share > least, f"{name} draws almost nothing in the browser ({share:.3%} ink)"
        assert colours > 8, f"{name} has only {colours} colours"


def test_chinese_text_is_drawn_as_glyph_paths():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's "Glyph ... missing from font(s)" would be an error
        svg = svg_text(KNOWN)
    assert "<text" not in svg  # text as outlines: no font needed where the report is read
    # Each character is drawn with the font's own glyph for it (glyph 0 would be the missing-glyph box).
    path, index = font_file(find_cjk_font())
    try:
        face = FT2Font(path, face_index=index)
    except TypeError:  # matplotlib before 3.10 reads the first face of a collection
        face = FT2Font(path)
    expected = {f"{face.get_char_index(ord(ch)):x}" for ch in KNOWN}
    assert "0" not in expected
    defined = {gid.rsplit("-", 1)[-1] for gid in re.findall(r'<path id="([^"]+)"', svg)}
    used = [ref.rsplit("-", 1)[-1] for ref in re.findall(r'<use xlink:href="#([^"]+)"', svg)]
    assert defined == expected and set(used) == expected and len(used) == len(KNOWN), (defined, expected)


def rendered_dom(chromium: str, html_path, profile) -> str:
    """The page's DOM after Chromium has parsed and laid it out (what a reader's browser holds)."""
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--dump-dom", f"file://{html_path}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert "<html" in done.stdout, f"chromium dumped no DOM (exit {done.returncode}): {done.stderr[-2000:]}"
    return done.stdout


def test_headline_numbers_in_the_browser_equal_those_from_simulation_csv(chromium, report_folder, tmp_path):
    import csv
    from html.parser import HTMLParser

    by_deadline: dict[str, list[float]] = {}
    below_names: dict[str, set[str]] = {}
    with open(report_folder / "simulation.csv", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            if row["project_id"] != "PORTFOLIO":
                by_deadline.setdefault(row["deadline"], []).append(float(row["p_on_time"]))
                if float(row["p_on_time"]) < 0.5:
                    below_names.setdefault(row["deadline"], set()).add(row["name_zh"])
    late_names: dict[str, set[str]] = {}  # the projects the plan itself finishes after their deadline
    with open(report_folder / "projects.csv", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            if row["planned_finish"] > row["deadline"]:
                late_names.setdefault(row["deadline"], set()).add(row["name_zh"])

    class Cells(HTMLParser):
        """The text of each cell of the headline table, per row (keyed by the row's deadline)."""

        def __init__(self):
            super().__init__()
            self.rows, self.row, self.cell, self.inside = {}, None, None, False

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "table" and attrs.get("id") == "by-deadline":
                self.inside = True
            elif self.inside and tag == "tr" and "data-deadline" in attrs:
                self.row = self.rows.setdefault(attrs["data-deadline"], [])
            elif self.row is not None and tag == "td":
                self.cell = []
                self.row.append(self.cell)

        def handle_endtag(self, tag):
            if tag == "td":
                self.cell = None
            if tag == "table":
                self.inside, self.row = False, None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    parser = Cells()
    dom = rendered_dom(chromium, report_folder / "report.html", tmp_path / "profile")
    parser.feed(dom)
    rows = {d: ["".join(c).strip() for c in cells] for d, cells in parser.rows.items()}
    assert list(rows) == sorted(by_deadline), rows  # every deadline, the earliest first
    for deadline, ps in by_deadline.items():
        n, misses, below = len(ps), sum(1 - p for p in ps), sum(p < 0.5 for p in ps)
        deadline_cell, projects, expected, below_cell, late_cell = rows[deadline]
        assert deadline_cell == deadline and int(projects) == n
        assert float(expected) == round(misses, 1), (deadline, expected, misses)
        assert below_cell.count("%") == below or below == 0 and below_cell == "none"
        for name in below_names.get(deadline, ()):
            assert name in below_cell, (deadline, name, below_cell)
        late = {n.strip() for n in late_cell.split(",")} - {"none"}
        assert late == late_names.get(deadline, set()), (deadline, late_cell)
    # the plan's status in words, read from the optimizer's status in manifest.json
    import json

    status = json.loads((report_folder / "manifest.json").read_text(encoding="utf-8"))["optimizer"]["status"]
    words = {"OPTIMAL": "The plan is proven optimal", "FEASIBLE": "not proven optimal"}[status.upper()]
    lede = re.search(r'<ul class="lede">(.*?)</ul>', dom, flags=re.S)
    assert lede and words in lede.group(1), "the headline does not say whether the plan is proven optimal"


def test_sweep_summary_page_is_drawn(chromium, mini_data, tmp_path):
    from runs.sweep import run_sweep

    scenario = tmp_path / "grid.toml"
    scenario.write_text('name = "mini"\ndata = "data"\n[simulate]\niterations = 200\nseed = 7\n'
                        '[[sweep.funding]]\nsources = ["provincial"]\nfactors = [1.5, 1.0]\n', encoding="utf-8")
    run_sweep([scenario], tmp_path / "sweep", report=False)
    page = tmp_path / "sweep" / "summary.html"
    image = screenshot(chromium, page, tmp_path / "sweep.png", tmp_path / "profile", 1400, 2400)
    share, colours = ink(image)
    assert share > 0.03 and colours > 100, (share, colours)
    dom = rendered_dom(chromium, page, tmp_path / "profile")
    assert 'id="chart-heatmap"' in dom and 'id="chart-dumbbell"' in dom and "What changed in the inputs" in dom
