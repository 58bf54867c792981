"""portfolio report: report.md, report.html and charts/*.svg from a run folder."""
from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner

from cli import main
from report import fonts
from report.charts import CHARTS, percent, svg_text
from report.fonts import MissingFontError
from report.markdown import markdown_table
from report.write import write_report
from runfolder_fixture import PROJECTS, make_run

CHART_NAMES = [name for name, _title in CHARTS]


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    folder = make_run(tmp_path_factory.mktemp("runs") / "baseline", seed=2021, iterations=2000)
    result = CliRunner().invoke(main, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def test_report_command_writes_markdown_html_and_six_charts(full_run):
    for name in CHART_NAMES:
        assert (full_run / "charts" / f"{name}.svg").is_file()
    md = (full_run / "report.md").read_text(encoding="utf-8")
    page = (full_run / "report.html").read_text(encoding="utf-8")
    for name in CHART_NAMES:
        assert f"](charts/{name}.svg)" in md
        assert f'<svg id="chart-{name}"' in page
    assert page.count("How to read this:") == 7  # the table and the six charts
    # the headline: scenario, the plan's status in words, the deadline table
    assert "<h1>baseline</h1>" in page and 'id="by-deadline"' in page
    assert "| Deadline | Projects | Expected misses" in md.replace("  ", "")
    assert "P(all projects on time)" not in page  # measured against the last deadline, it misled (charts too)


def expected_by_deadline(folder) -> dict[str, tuple[int, float, int]]:
    """deadline -> (projects, expected misses, projects below 50%) straight from simulation.csv."""
    import csv

    out: dict[str, list] = {}
    with open(folder / "simulation.csv", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            if row["project_id"] != "PORTFOLIO":
                out.setdefault(row["deadline"], []).append(float(row["p_on_time"]))
    return {d: (len(ps), sum(1 - p for p in ps), sum(p < 0.5 for p in ps)) for d, ps in out.items()}


def test_headline_answers_how_many_projects_per_deadline_miss(full_run):
    md = (full_run / "report.md").read_text(encoding="utf-8")
    page = (full_run / "report.html").read_text(encoding="utf-8")
    expected = expected_by_deadline(full_run)
    assert len(expected) == 2  # the fixture: most projects due 2025-12, one due 2026-12
    rows = re.findall(r'<tr data-deadline="([^"]+)">.*?data-projects>(\d+)<.*?data-expected-misses><strong>'
                      r'([\d.]+)<.*?data-below-half="(\d+)"', page)
    assert [r[0] for r in rows] == sorted(expected)  # the earliest deadline first
    for deadline, n, misses, below in rows:
        assert (int(n), float(misses), int(below)) == (expected[deadline][0], round(expected[deadline][1], 1),
                                                       expected[deadline][2])
        assert re.search(rf"\| {deadline} +\| +{n} \| +{misses} \|", md)
    first = min(expected)
    assert f"Due {first}: expected misses: **{expected[first][1]:.1f} of {expected[first][0]}**" in md


def test_plan_status_in_words_reads_older_manifests_defensively():
    from report.write import plan_status_words

    assert plan_status_words({}) == ""
    assert plan_status_words({"status": "optimal"}).startswith("The plan is proven optimal")
    text = plan_status_words({"status": "feasible", "seconds": 19.2, "reproducible": False,
                              "stages": [{"name": "weighted_lateness", "value": 64.0, "bound": 28.0}]})
    assert "not proven optimal" in text and "64 priority-weighted months late" in text and "below 28" in text
    assert "A rerun may give a different plan." in text
    assert "rerun" not in plan_status_words({"status": "feasible", "stages": "garbled"})


def test_report_table_has_every_project_in_chinese_and_english(full_run):
    md = (full_run / "report.md").read_text(encoding="utf-8")
    page = (full_run / "report.html").read_text(encoding="utf-8")
    for pid, name_zh, name_en, _cat, agency, *_ in PROJECTS:
        assert name_zh in md and name_en in md and agency in md
        assert name_zh in page and agency in page
        assert name_en.replace("'", "&#x27;") in page
    header = next(line for line in md.splitlines() if line.startswith("| Project"))
    for column in ("Lead agency", "Planned finish", "Deadline", "P(on time)", "P80 finish", "Mean delay"):
        assert column in header


def test_report_html_is_self_contained(full_run):
    page = (full_run / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<link" not in page and "<img" not in page
    assert not re.search(r"""(src|href)=["']https?:""", page)
    assert "url(http" not in page and "@import" not in page
    assert "@font-face" in page and "data:font/woff;base64," in page  # the CJK glyphs of the table text
    assert "@page { size: A4" in page and "@media print" in page


def test_chart_text_is_drawn_as_paths(full_run):
    for name in CHART_NAMES:
        svg = (full_run / "charts" / f"{name}.svg").read_text(encoding="utf-8")
        assert "<text" not in svg, name  # no font needed to view it
        assert svg.count("<use ") > 50, name
        assert "<dc:date>" not in svg


def test_report_bytes_are_stable(full_run, tmp_path):
    copy = tmp_path / "again"
    shutil.copytree(full_run, copy)
    write_report(copy)
    for name in ["report.md", "report.html"] + [f"charts/{n}.svg" for n in CHART_NAMES]:
        assert (copy / name).read_bytes() == (full_run / name).read_bytes(), name


def test_schedule_only_run_leaves_out_the_monte_carlo_parts(tmp_path):
    folder = make_run(tmp_path / "plan", parts=("schedule",))
    (folder / "charts").mkdir()
    (folder / "charts" / "criticality.svg").write_text("<svg/>", encoding="utf-8")  # from an earlier report
    result = CliRunner().invoke(main, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    page = (folder / "report.html").read_text(encoding="utf-8")
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert 'id="chart-gantt"' in page and 'id="chart-funding"' in page
    for name in ("s-curve", "on-time", "risk-drivers", "criticality"):
        assert f'id="chart-{name}"' not in page
        assert not (folder / "charts" / f"{name}.svg").exists()
    assert "no Monte Carlo files" in page and "no Monte Carlo files" in md
    assert "Not drawn: this run has no distribution.csv" in md
    assert "Planned finish" in md and "P(on time)" in md  # the table keeps its columns, with dashes


def test_a_missing_monte_carlo_file_is_named(tmp_path):
    folder = make_run(tmp_path / "run", iterations=300)
    (folder / "risks.csv").unlink()
    from report.rundata import load_run
    from report.write import missing_notes

    assert missing_notes(load_run(folder)) == ["risks.csv is missing: what needs it is left out."]


def test_simulation_only_run_leaves_out_the_plan_parts(tmp_path):
    folder = make_run(tmp_path / "sim", parts=("simulation",))
    result = CliRunner().invoke(main, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert 'id="chart-gantt"' not in page and 'id="chart-funding"' not in page
    for name in ("s-curve", "on-time", "risk-drivers", "criticality"):
        assert f'id="chart-{name}"' in page
    assert "no plan files" in page
    assert PROJECTS[0][1] in page  # names come from simulation.csv


def test_missing_folder_and_malformed_file_exit_2_with_one_line(tmp_path):
    result = CliRunner().invoke(main, ["report", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "no such run folder" in result.output

    folder = make_run(tmp_path / "bad")
    text = (folder / "simulation.csv").read_text(encoding="utf-8-sig")
    (folder / "simulation.csv").write_text(text.replace("p_on_time", "p_ontime"), encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(folder)])
    assert result.exit_code == 2
    assert "simulation.csv:1:0: missing column(s): p_on_time" in result.output
    assert "Traceback" not in result.output

    (folder / "simulation.csv").write_text(text.replace("2025-12", "2025-13", 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(folder)])
    assert result.exit_code == 2 and "simulation.csv:2:3: deadline" in result.output


def test_no_cjk_font_is_a_clear_error_not_boxes(tmp_path, monkeypatch):
    folder = make_run(tmp_path / "run", parts=("simulation",), iterations=500)
    latin = fonts.font_file("DejaVu Sans")
    assert latin is not None
    monkeypatch.setenv("PORTFOLIO_CJK_FONT", latin[0])
    monkeypatch.setattr(fonts, "_cache", {})
    result = CliRunner().invoke(main, ["report", str(folder)])
    assert result.exit_code == 2
    assert "fonts-wqy-microhei" in result.output and result.output.strip().count("\n") == 0
    assert not (folder / "report.html").exists()


def test_a_character_no_font_has_raises_instead_of_drawing_a_box():
    with pytest.raises(MissingFontError, match="cannot draw"):
        svg_text("西安 \U000f0001")  # a private-use character: in no font


def test_markdown_tables_line_up_with_wide_characters():
    table = markdown_table(["id", "名称"], [["A", "西安"], ["BB", "x"]], right={0})
    lines = table.splitlines()
    widths = {sum(2 if ord(c) > 0x2E80 else 1 for c in line) for line in lines}
    assert len(widths) == 1, table


def test_percent_never_rounds_a_chance_to_zero_or_certainty():
    assert percent(0.0) == "0.0%" and percent(1.0) == "100.0%"
    assert percent(0.0004) == "<0.1%" and percent(0.9996) == ">99.9%"
    assert percent(0.5132) == "51.3%"


# -- the charts as a reader needs them -------------------------------------------------------------------------

def built_charts(folder, window=None):
    """name -> matplotlib Figure of every chart the folder allows (inside the chart style, like the report)."""
    from report.charts import BUILDERS, gantt_chart, make_look
    from report.fonts import chart_style
    from report.rundata import load_run

    run = load_run(folder)
    with chart_style():
        look = make_look(run)
        figs = {name: (gantt_chart(run, look, window) if name == "gantt" else BUILDERS[name](run, look))
                for name in CHART_NAMES}
    return run, {k: v for k, v in figs.items() if v is not None}


def deadline_xs(ax) -> list[float]:
    from report.charts import DEADLINE

    return [x for line in ax.get_lines() if line.get_color() == DEADLINE for x in line.get_xdata()
            if x is not None]


@pytest.mark.parametrize("window", [None, (2022 * 12, 2024 * 12 + 5)])
def test_gantt_axis_covers_the_status_date_and_every_deadline_shown(full_run, window):
    run, figs = built_charts(full_run, window)
    ax = figs["gantt"].axes[0]
    lo, hi = ax.get_xlim()
    assert lo <= run.status_date < hi  # even a window that starts after it is widened to show it
    shown = deadline_xs(ax)
    if window is None:
        assert sorted(set(shown)) == [2025 * 12 + 12, 2026 * 12 + 12]  # both deadlines of the fixture
        assert hi - lo <= 12 * 10
    for x in shown:
        assert lo <= x <= hi
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "status date 2021-01" in texts
    if window is not None:  # deadlines beyond the window are named at its edge, not dropped silently
        assert "deadline 2025-12 ▶" in texts and not shown


def test_gantt_wraps_long_names_and_titles_every_phase(full_run):
    from report.charts import wrap

    assert wrap("关中城市群阎良至咸阳机场铁路（西安都市圈市域郊铁路）", 26) == [
        "关中城市群阎良至咸阳机场铁", "路（西安都市圈市域郊铁路）"]
    assert wrap("引汉济渭工程一期（调水工程）", 26) == ["引汉济渭工程一期（调水工程）"]  # never a lone "）"
    assert "".join(wrap("Xi'an Metro Line 8 (ring) and more words", 12)) .replace(" ", "") == \
        "Xi'anMetroLine8(ring)andmorewords"
    svg = (full_run / "charts" / "gantt.svg").read_text(encoding="utf-8")
    schedule = (full_run / "schedule.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    titles = re.findall(r"<title>([^<]+)</title>", svg)
    assert len(titles) == len(schedule)  # one hover title per phase: its name, id and dates
    for line in schedule:
        aid, _pid, name = line.split(",")[:3]
        assert any(t.startswith(f"{name} ({aid}):") for t in titles), aid
    assert "…" not in "".join(t.get_text() for t in built_charts(full_run)[1]["gantt"].axes[0].get_yticklabels())


def test_gantt_driving_path_follows_touching_phases():
    import pandas as pd

    from report.charts import driving_path

    rows = pd.DataFrame({"activity_id": ["A", "B", "C", "D"], "start_m": [0, 5, 5, 2], "finish_m": [4, 9, 7, 3]})
    assert driving_path(rows) == {"A", "B"}  # B ends last and starts the month after A ends; C, D have slack


def test_every_chart_has_a_title_axis_labels_and_a_legend_or_direct_labels(full_run):
    _run, figs = built_charts(full_run)
    assert set(figs) == set(CHART_NAMES)
    for name, fig in figs.items():
        axes = [ax for ax in fig.axes if ax.get_visible()]
        title = fig._suptitle.get_text() if fig._suptitle is not None else ""
        for ax in axes:
            assert title or ax.get_title() or ax.get_title(loc="left"), f"{name}: an axes without a title"
            assert ax.get_xlabel() or ax.get_ylabel() or name == "funding" and ax.get_xticklabels(), \
                f"{name}: an axes without axis labels"
            ticks = [t.get_text() for t in ax.get_yticklabels() + ax.get_xticklabels(minor=True)
                     + ax.get_xticklabels()]
            assert any(ticks), f"{name}: no labelled ticks"
        assert fig.legends or any(ax.texts for ax in axes), f"{name}: neither a legend nor direct labels"


def test_s_curves_tornado_and_criticality_say_something(full_run):
    from report.charts import CONTESTED, DEADLINE

    run, figs = built_charts(full_run)
    panels = [ax for ax in figs["s-curve"].axes if ax.get_visible()]
    assert len(panels) == len(run.project_rows())  # one small multiple per project, no 20-entry legend
    for ax in panels:
        assert any(line.get_color() == DEADLINE for line in ax.get_lines()) and "on time" in ax.texts[0].get_text()
    risks = figs["risk-drivers"].axes[0]
    assert risks.get_xlim()[0] <= 0 and all(bar.get_x() == 0 for bar in risks.patches if bar.get_width() > 0)
    assert "project-months" in risks.get_xlabel()
    on_time = " ".join(t.get_text() for t in figs["on-time"].axes[0].texts)
    assert "Due 2025-12: 7 projects, expected misses" in on_time and "Due 2026-12: 1 project," in on_time
    bars = [bar.get_width() for bar in figs["criticality"].axes[0].patches]
    assert bars and all(CONTESTED[0] < w < CONTESTED[1] for w in bars)  # never a wall of 100% bars


def test_gantt_draws_the_status_date_each_deadline_and_the_driving_path_with_its_links(full_run):
    from matplotlib.colors import to_hex
    from matplotlib.text import Annotation

    from report.charts import DEADLINE, INK, driving_path

    run, figs = built_charts(full_run)
    ax = figs["gantt"].axes[0]
    status = [line for line in ax.get_lines() if to_hex(line.get_color()) == "#1565c0"]
    assert len(status) == 1 and list(status[0].get_xdata()) == [run.status_date] * 2  # a line, not just a label
    schedule = run.get("schedule.csv")
    projects = sorted(set(schedule["project_id"]))
    deadlines = [line for line in ax.get_lines() if line.get_color() == DEADLINE]
    assert len(deadlines) == len(projects)  # one deadline mark per project row, inside the default window
    # the driving path: exactly its phases outlined in ink, and one arrow per touching pair of them
    outlined = {p.get_gid() for p in ax.patches if p.get_gid() and to_hex(p.get_edgecolor()) == to_hex(INK)}
    svg = (full_run / "charts" / "gantt.svg").read_text(encoding="utf-8")
    on_path = set(re.findall(r"<title>[^<]*\(([^)]+)\):[^<]*on the driving path</title>", svg))
    expected_path, expected_links = set(), 0
    for pid in projects:
        rows = schedule[schedule["project_id"] == pid]
        path = driving_path(rows)
        expected_path |= path
        ends = {r.activity_id: (r.start_m, r.finish_m) for r in rows.itertuples() if r.activity_id in path}
        expected_links += sum(1 for a in ends for b in ends if a != b and ends[a][1] + 1 == ends[b][0])
    assert expected_path and on_path == expected_path and len(outlined) == len(expected_path)
    arrows = [t for t in ax.texts if isinstance(t, Annotation) and t.arrow_patch is not None]
    assert expected_links > 0 and len(arrows) == expected_links
