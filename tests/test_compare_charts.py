"""The charts of `portfolio compare --format html`: P(on time) A → B per project (dumbbell) and the finish shifts."""
from __future__ import annotations

import html
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from cli import main
from report import fonts
from report.compare import CHARTS_NOTE, comparison
from report.comparecharts import dumbbell_chart, finish_shifts, shifts_chart
from runs.expected import ROOT
from report.fonts import chart_style
from runfolder_fixture import make_run

CUT = dict(scenario="funding-cut", delays={"XIY-P3.T3": 2, "XAM-L8.T4": 4},
           rules={"funding scale: provincial, 2022–2024": "×0.8 (−20%)"})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("compare_charts")
    return {"baseline": make_run(base / "baseline", seed=2021, iterations=2000),
            "again": make_run(base / "again", seed=2021, iterations=2000),
            # two phases take longer, the same random numbers: two projects fall beyond sampling error
            "cut": make_run(base / "cut", seed=2021, iterations=2000, **CUT)}


class ChartPage(HTMLParser):
    """The page's h2 headings and, per inline <svg id=...>, the drawn texts (matplotlib writes each text drawn as
    outlines in a comment) and the <title> hover texts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.headings, self.svgs, self.open = [], {}, []
        self.svg = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("meta", "br", "link", "img"):
            return
        if tag == "svg":
            self.svg = attrs["id"]
            self.svgs[self.svg] = {"texts": [], "titles": [], "label": attrs.get("aria-label", "")}
        self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else ''}>"
        self.open.pop()
        if tag == "svg":
            self.svg = None

    def handle_comment(self, data):
        if self.svg:
            self.svgs[self.svg]["texts"].append(html.unescape(data.strip()))

    def handle_data(self, data):
        if self.open and self.open[-1] == "h2":
            self.headings.append(data)
        elif self.svg and self.open[-1] == "title":
            self.svgs[self.svg]["titles"].append(data)


def page_of(a, b) -> ChartPage:
    result = CliRunner().invoke(main, ["compare", str(a), str(b), "--format", "html"])
    assert result.exit_code == 0, result.output
    page = ChartPage()
    page.feed(result.output)
    page.close()
    assert page.open == []
    return page


def table(md: str, section: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table under ``## section`` as {header: cell}."""
    text = md.split(f"## {section}\n", 1)[1]
    lines = text[text.index("\n|") + 1:].split("\n\n", 1)[0].splitlines()
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(head, (c.strip() for c in x.strip("|").split("|")))) for x in lines[2:]]


def test_the_two_charts_come_after_the_summary_with_title_axis_label_and_legend(runs):
    page = page_of(runs["baseline"], runs["cut"])
    assert page.headings[page.headings.index("Summary") + 1:][:3] == [
        "P(on time) before and after", "Finish shifts", "Inputs"]
    bell = page.svgs["chart-dumbbell"]
    assert bell["label"] == "P(on time) before and after"
    assert "P(on time) per project: run A (baseline) → run B (funding-cut), largest fall first" in bell["texts"]
    assert "probability of finishing by the deadline (share of simulated futures)" in bell["texts"]
    for entry in ("A: baseline", "B: funding-cut, within sampling error", "B: funding-cut, beyond sampling error",
                  "lower in B", "higher in B"):
        assert entry in bell["texts"], entry
    shifts = page.svgs["chart-shifts"]
    assert "Finish shifts per project: simulated P80 and planned finish, A → B" in shifts["texts"]
    assert "months later (+) or earlier (−) in run B (funding-cut) than in run A (baseline)" in shifts["texts"]
    assert {"P80 finish (simulated)", "planned finish (optimizer)"} <= set(shifts["texts"])


def test_every_project_of_the_table_is_a_row_of_the_dumbbell_with_its_figures(runs):
    md = CliRunner().invoke(main, ["compare", str(runs["baseline"]), str(runs["cut"])]).output
    rows = table(md, "P(on time) and P80")
    titles = page_of(runs["baseline"], runs["cut"]).svgs["chart-dumbbell"]["titles"]
    assert len(titles) == len(rows)
    for row in rows:
        mine = [t for t in titles if t.startswith(row["Project"] + " ")]
        assert len(mine) == 1, row["Project"]
        if row["Change (points)"] == "0":
            assert mine[0].endswith(f"P(on time) {row['P(on time) A']}, no change")
        else:
            assert f"{row['P(on time) A']} → {row['P(on time) B']} ({row['Change (points)']} points, " in mine[0]
        beyond = "P(on time)" in row["Beyond sampling error"]
        assert ("beyond sampling error" in mine[0]) == beyond and ("within" in mine[0]) == (
            not beyond and row["Change (points)"] != "0")


def test_the_dumbbell_is_sorted_by_change_and_marks_beyond_error_by_shape_and_words(runs):
    _md, a, b, changes = comparison(runs["baseline"], runs["cut"], "")
    with chart_style():
        fig = dumbbell_chart(changes, a.scenario, b.scenario)
    ax = fig.axes[0]
    order = [t.get_text().rsplit("(", 1)[1].rstrip(")") for t in ax.get_yticklabels()]
    by_pid = {c.pid: c for c in changes}
    assert order[-1] == "PORTFOLIO" and sorted(order) == sorted(by_pid)
    points = [by_pid[p].points for p in order[:-1]]
    assert points == sorted(points) and points[0] < -10  # the largest fall on top
    diamonds = {int(line.get_ydata()[0]) for line in ax.lines if line.get_marker() == "D"}
    beyond = {i for i, p in enumerate(order) if "P(on time)" in by_pid[p].beyond}
    assert diamonds == beyond == {0, 1}
    words = {int(t.get_position()[1]) for t in ax.texts if "beyond sampling error" in t.get_text()}
    assert words == beyond
    assert ax.get_title(loc="left") and ax.get_xlabel() and fig.legends


def test_the_finish_shift_chart_has_each_project_whose_p80_or_planned_finish_moved(runs):
    md = CliRunner().invoke(main, ["compare", str(runs["baseline"]), str(runs["cut"])]).output
    expected = {}
    for row in table(md, "P(on time) and P80"):
        if row["P80 moved (months)"] not in ("0", "—"):
            expected[(row["Project"], "P80")] = row["P80 moved (months)"]
    for row in table(md, "Planned finish"):
        expected[(row["Project"], "planned")] = row["Moved (months)"]
    assert len(expected) == 4
    titles = page_of(runs["baseline"], runs["cut"]).svgs["chart-shifts"]["titles"]
    assert len(titles) == len(expected)
    for (pid, what), months in expected.items():
        assert any(t.startswith(f"{pid} ") and f": {what} finish {months} mo (" in t for t in titles), (pid, what)
    _md, a, b, changes = comparison(runs["baseline"], runs["cut"], "")
    shifts = finish_shifts(a, b, changes)
    assert [s.pid for s in shifts] == ["XAM-L8", "XIY-P3"]  # the larger P80 delay first
    with chart_style():
        fig = shifts_chart(shifts, a.scenario, b.scenario)
    assert fig.axes[0].get_title(loc="left") and fig.axes[0].get_xlabel() and fig.legends
    assert len(fig.axes[0].texts) == 4  # a label on every bar


def test_the_markdown_stays_text_and_says_the_page_has_the_charts(runs):
    md = CliRunner().invoke(main, ["compare", str(runs["baseline"]), str(runs["cut"])]).output
    assert CHARTS_NOTE in md and "<svg" not in md
    same = CliRunner().invoke(main, ["compare", str(runs["baseline"]), str(runs["again"])]).output
    assert CHARTS_NOTE not in same and "No difference" in same


def test_identical_runs_draw_no_finish_shift_chart(runs):
    page = page_of(runs["baseline"], runs["again"])
    assert "chart-shifts" not in page.svgs and "Finish shifts" not in page.headings
    assert all(t.endswith("no change") for t in page.svgs["chart-dumbbell"]["titles"])


def test_the_same_run_folders_give_the_same_html_bytes_twice(runs, tmp_path):
    args = ["compare", str(runs["baseline"]), str(runs["cut"]), "--out"]
    first, second = tmp_path / "first.html", tmp_path / "second.html"
    assert CliRunner().invoke(main, args + [str(first)]).exit_code == 0
    done = subprocess.run([sys.executable, "-c", "import sys; from cli import main; main(sys.argv[1:])",
                           *args, str(second)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert first.read_bytes() == second.read_bytes() and b'<svg id="chart-dumbbell"' in first.read_bytes()


def test_no_cjk_font_is_one_line_and_nothing_written(runs, tmp_path, monkeypatch):
    latin = fonts.font_file("DejaVu Sans")
    assert latin is not None
    monkeypatch.setenv("PORTFOLIO_CJK_FONT", latin[0])
    monkeypatch.setattr(fonts, "_cache", {})
    out = tmp_path / "compare.html"
    result = CliRunner().invoke(main, ["compare", str(runs["baseline"]), str(runs["cut"]), "--out", str(out)])
    assert result.exit_code == 2 and "fonts-wqy-microhei" in result.output
    assert result.output.strip().count("\n") == 0 and not out.exists()


def test_plan_only_runs_draw_the_planned_finish_shift_alone(tmp_path):
    a = make_run(tmp_path / "a", parts=("schedule",))
    b = make_run(tmp_path / "b", parts=("schedule",), delays={"XIY-P3.T3": 2})
    page = page_of(a, b)
    assert "chart-dumbbell" not in page.svgs and "P(on time) before and after" not in page.headings
    shifts = page.svgs["chart-shifts"]
    assert shifts["titles"] == ["XIY-P3 西安咸阳国际机场三期扩建工程: planned finish +2 mo (2025-02 → 2025-04)"]
    assert "P80 finish: not compared (a run has no Monte Carlo)" in [t.strip() for t in shifts["texts"]]
