"""The three HTML pages a planner opens (report, compare, sweep summary), read as files.

Each page must work offline and print on A4, and each of its charts must carry a
title, axis labels and a legend or labels on the marks. The charts are read from
the inline SVG itself (matplotlib writes every text it draws as a comment in a
``<g id="text_N">`` group), so a chart that lost its labels fails here even if
the code that built it still sets them somewhere.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from cli import main
from report.write import write_report
from runfolder_fixture import make_run

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("pages")
    a = make_run(base / "baseline", seed=2021, iterations=1000)
    b = make_run(base / "cut", seed=2021, iterations=1000, scenario="funding-cut",
                 delays={"XIY-P3.T3": 2, "XAM-L8.T4": 4})
    write_report(a)
    compare = CliRunner().invoke(main, ["compare", str(a), str(b), "--format", "html"])
    assert compare.exit_code == 0, compare.output
    from conftest import MINI_FILES
    from runs.sweep import run_sweep

    (base / "data").mkdir()
    for file, content in MINI_FILES.items():
        (base / "data" / file).write_text(content, encoding="utf-8")
    scenario = base / "grid.toml"
    scenario.write_text('name = "mini"\ndata = "data"\n[simulate]\niterations = 200\nseed = 7\n'
                        '[[sweep.funding]]\nsources = ["provincial"]\nfactors = [1.5, 1.0]\n', encoding="utf-8")
    run_sweep([scenario], base / "sweep", report=False)
    return {"report": (a / "report.html").read_text(encoding="utf-8"), "compare": compare.output,
            "sweep": (base / "sweep" / "summary.html").read_text(encoding="utf-8")}


def kind(element) -> str:
    """The element's matplotlib id without the page's prefix: figure_1, axes_2, text_7, legend_1, ..."""
    return re.sub(r"^.*?-(?=(figure|axes|matplotlib\.axis|text|legend|[xy]tick)_?\d*$)", "", element.get("id") or "")


def said(group) -> str:
    return " ".join((c.text or "").strip() for c in group if c.tag is ET.Comment).strip()


def texts_in(group) -> list[str]:
    return [said(g) for g in group if g.tag == SVG + "g" and re.fullmatch(r"text_\d+", kind(g))]


def chart_parts(svg: str) -> dict:
    """What a reader sees of one inline chart: its headings, per axes the axis labels, direct texts, tick labels."""
    root = ET.fromstring(svg, parser=ET.XMLParser(target=ET.TreeBuilder(insert_comments=True)))
    figure = next(g for g in root if g.tag == SVG + "g" and kind(g) == "figure_1")
    axes = []
    for ax in figure:
        if not re.fullmatch(r"axes_\d+", kind(ax)):
            continue
        axis_groups = [a for a in ax if kind(a).startswith("matplotlib.axis")]
        axes.append({"labels": [t for a in axis_groups for t in texts_in(a)],
                     "direct": texts_in(ax),
                     "ticks": [said(g) for a in axis_groups for tick in a if re.fullmatch(r"[xy]tick_\d+", kind(tick))
                               for g in tick.iter(SVG + "g") if re.fullmatch(r"text_\d+", kind(g))]})
    return {"figure_texts": texts_in(figure), "axes": axes,
            "legends": sum(1 for g in root.iter(SVG + "g") if re.fullmatch(r"legend_\d+", kind(g)))}


def is_heading(text: str) -> bool:
    """A chart title reads as a phrase: a capital first, at least three words."""
    return bool(re.match(r"[A-Z]", text)) and len(text.split()) >= 3


def charts_of(page: str) -> dict[str, str]:
    return {m.group(1): m.group(0) for m in re.finditer(r'<svg id="(chart-[^"]+)".*?</svg>', page, flags=re.S)}


@pytest.mark.parametrize("name, least", [("report", 6), ("compare", 2), ("sweep", 2)])
def test_every_chart_has_a_title_axis_labels_and_a_legend_or_direct_labels(pages, name, least):
    charts = charts_of(pages[name])
    assert len(charts) >= least, (name, list(charts))
    for chart_id, svg in charts.items():
        assert re.search(r'aria-label="[^"]{4,}"', svg[:400]), f"{name}/{chart_id}: no accessible name"
        parts = chart_parts(svg)
        assert parts["axes"], f"{name}/{chart_id}: no axes"
        headings = [t for t in parts["figure_texts"] if is_heading(t)]
        for ax in parts["axes"]:
            assert headings or any(is_heading(t) for t in ax["direct"]), f"{name}/{chart_id}: an axes without a title"
            assert any(ax["ticks"]), f"{name}/{chart_id}: an axes without labelled ticks"
        assert any(ax["labels"] for ax in parts["axes"]), f"{name}/{chart_id}: no axis label"
        marks = parts["legends"] or all(len(ax["direct"]) >= 2 for ax in parts["axes"])
        assert marks, f"{name}/{chart_id}: neither a legend nor labels on the marks"


def test_the_checker_catches_a_chart_without_labels(pages):
    svg = next(iter(charts_of(pages["report"]).values()))
    bare = re.sub(r"<!--.*?-->", "", svg, flags=re.S)  # the drawn texts' words gone
    parts = chart_parts(bare)
    assert not any(ax["labels"] and any(ax["labels"]) for ax in parts["axes"])
    assert not any(is_heading(t) for ax in parts["axes"] for t in ax["direct"])


@pytest.mark.parametrize("name", ["report", "compare", "sweep"])
def test_page_is_self_contained_offline_and_prints_on_a4(pages, name):
    page = pages[name]
    assert "<script" not in page and "<link" not in page and "<iframe" not in page and "@import" not in page
    # nothing from the network: every src/href points inside the page, is a data: URL or a file beside it
    # (the sweep links each variant's report.html in its own folder)
    for ref in re.findall(r"""\b(?:src|href|xlink:href)\s*=\s*["']([^"']*)["']""", page):
        local = not re.match(r"[a-zA-Z][\w+.-]*:|//", ref) and ".." not in ref.split("/")
        assert ref.startswith(("#", "data:")) or local, f"{name}: a reference out of the page: {ref[:80]}"
    for ref in re.findall(r"url\(\s*['\"]?([^)'\"]*)", page):
        assert ref.startswith(("#", "data:")), f"{name}: a url() out of the page: {ref[:80]}"
    # the only http(s) text left is XML namespace names and matplotlib's metadata, which no browser fetches
    for url in re.findall(r"https?://[^\s\"'<>)]+", page):
        assert url.startswith(("http://www.w3.org/", "http://purl.org/", "http://creativecommons.org/",
                               "https://matplotlib.org/")), f"{name}: {url}"
    assert re.search(r"@page\s*\{\s*size:\s*A4", page), f"{name}: no A4 page size"
    assert "@media print" in page, f"{name}: no print stylesheet"


@pytest.mark.parametrize("name", ["report", "compare", "sweep"])
def test_chinese_text_is_legible_at_default_zoom(pages, name):
    """The HTML text carries its CJK glyphs (embedded font subset) and is set no smaller than 12 px."""
    page = pages[name]
    assert "@font-face" in page and "data:font/woff;base64," in page, f"{name}: Chinese relies on the reader's fonts"
    screen = re.sub(r"@media print\s*\{.*?\}\s*\}", "", page, flags=re.S)  # print sizes are in pt
    sizes = [float(v) * (16 if unit == "em" else 1)  # 1em = the browser's default 16 px
             for v, unit in re.findall(r"font-size:\s*([\d.]+)(px|em)", screen)]
    assert sizes and min(sizes) >= 12, (name, sorted(sizes)[:3])


def test_run_details_give_the_optimizer_stages_as_lines_not_a_python_dict(tmp_path):
    import json

    folder = make_run(tmp_path / "staged", seed=2021, iterations=200)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["optimizer"]["stages"] = [
        {"name": "weighted_lateness", "value": 64.0, "bound": 28.0, "optimal": False, "seconds": 8.8},
        {"name": "weighted_finish", "value": 4788.0, "bound": 4788.0, "optimal": True, "seconds": 1.9}]
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    write_report(folder)
    page = (folder / "report.html").read_text(encoding="utf-8")
    details = re.search(r'<section id="run-details">.*?</dl>', page, flags=re.S).group(0)
    facts = dict(re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", details, flags=re.S))
    assert facts["Stage 1"] == "weighted_lateness: 64 (bound 28, not proven) in 8.8 s"
    assert facts["Stage 2"] == "weighted_finish: 4,788 (bound 4,788, proven optimal) in 1.9 s"
    for text in (details, (folder / "report.md").read_text(encoding="utf-8")):
        assert "{" not in text and "[{" not in text and "&#x27;name&#x27;" not in text and "'name'" not in text
