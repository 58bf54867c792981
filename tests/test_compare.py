"""portfolio compare DIR_A DIR_B: what changed between two runs, better or worse, and beyond sampling error or not."""
from __future__ import annotations

import base64
import json
import math
import re
import shutil
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import optimize
import simulate
from cli import main
from optimize.output import write_plan
from report.compare import CHARTS_NOTE, Difference, common_random_numbers, paired_test, row_changes, unpaired_test
from runs.expected import ROOT
from portfolio.inputrows import row_hashes
from runs.pipeline import planned_starts
from report.rundata import load_run
from runfolder_fixture import make_run
from scenarios.load import load_target, sweep_variants
from scenarios.rules import scenario_rules

CUT_RULE = "funding scale: provincial, 2022–2024"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("compare")
    cut = dict(scenario="funding-cut", delays={"XIY-P3.T3": 2, "XAM-L8.T4": 4}, rules={CUT_RULE: "×0.8 (−20%)"})
    return {
        "baseline": make_run(base / "baseline", seed=2021, iterations=2000),
        "again": make_run(base / "again", seed=2021, iterations=2000),
        # a scenario in which two phases take longer (as if funds were cut), simulated with another seed
        "cut": make_run(base / "cut", seed=7, iterations=3000, **cut),
        # the same, with the baseline's seed and iterations: common random numbers
        "cut_crn": make_run(base / "cut_crn", seed=2021, iterations=2000, **cut),
        "plan_only": make_run(base / "plan_only", parts=("schedule",)),
        "old_baseline": make_run(base / "old_baseline", seed=2021, iterations=2000, legacy=True),
        "old_cut": make_run(base / "old_cut", seed=2021, iterations=2000, legacy=True, **cut),
    }


def write_run(folder, portfolio, settings, plan, iterations=2048):
    """What `portfolio run` writes, without the report: the plan, its Monte Carlo and the manifest."""
    folder.mkdir()
    write_plan(portfolio, settings, plan, folder)
    result = simulate.run(portfolio, settings, plan_starts=planned_starts(plan), iterations=iterations)
    simulate.write_outputs(result, folder)
    return folder


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory):
    """The bundled baseline (twice, the same plan) and funding-cut scenarios, with short solves and 2,048 iterations."""
    base = tmp_path_factory.mktemp("real")
    out = {}
    for name in ("baseline", "funding-cut"):
        portfolio, settings = load_target(ROOT / "scenarios" / f"{name}.toml")
        plan = optimize.solve(portfolio, settings, time_limit=3)
        out[name] = write_run(base / name, portfolio, settings, plan)
        if name == "baseline":
            out["again"] = write_run(base / "again", portfolio, settings, plan)
    return out


def compare(a, b, *extra):
    return CliRunner().invoke(main, ["compare", str(a), str(b), *extra])


def section(text: str, title: str) -> str:
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def table_rows(text: str) -> dict[str, list[str]]:
    """First cell -> cells of each row of the Markdown tables in ``text``."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


def summary_groups(md: str) -> dict[str, dict[str, str]]:
    """"Worse in B" / "Better in B" / "Mixed" -> project_id -> its summary line."""
    groups, current = {}, None
    for line in section(md, "Summary").splitlines():
        if line.endswith("):") and "(" in line:
            current = groups.setdefault(line.split(" (")[0], {})
        elif line.startswith("- ") and current is not None:
            current[line[2:].split(" ", 1)[0]] = line
        elif line and not line.startswith("- "):
            current = None
    return groups


def points(line: str) -> float:
    """The change of P(on time) a summary line gives, in points."""
    match = re.search(r"P\(on time\) ([+−][0-9.]+) points", line)
    assert match, line
    return float(match.group(1).replace("−", "-"))


def edit_manifest(folder, **changes):
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        keys = dotted.split("__")
        target = manifest
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        if value is None:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = value
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def copy_run(folder, to, **changes):
    shutil.copytree(folder, to)
    edit_manifest(to, **changes)
    return to


def decoded_bits(folder) -> dict[str, np.ndarray]:
    """iterations.csv read here by hand: project_id -> on time per iteration."""
    frame = pd.read_csv(folder / "iterations.csv", dtype=str)
    out = {}
    for pid, n, text in zip(frame.project_id, frame.iterations, frame.on_time_bits):
        packed = np.frombuffer(base64.b64decode(text), dtype=np.uint8)
        out[pid] = np.unpackbits(packed, bitorder="little")[: int(n)].astype(bool)
    return out


# -- the statistical tests, on hand-worked cases -------------------------------------------------------------

def test_paired_test_on_a_hand_worked_case():
    # 10 iterations: on time in A only in iteration 0, in B only in 1-4, in both in 5-6, in neither in 7-9.
    a = np.array([1, 0, 0, 0, 0, 1, 1, 0, 0, 0], dtype=bool)
    b = np.array([0, 1, 1, 1, 1, 1, 1, 0, 0, 0], dtype=bool)
    t = paired_test(a, b)
    # d = (-1, 1, 1, 1, 1, 0, 0, 0, 0, 0): mean 0.3, s² = (5 - 10 · 0.09) / 9 = 41/90, SE = √(41/90/10) = √41/30
    assert t.diff == pytest.approx(0.3, abs=1e-15)
    assert t.se == pytest.approx(math.sqrt(41) / 30, rel=1e-12)
    assert t.paired and not t.significant  # 0.3 < 3 · 0.2134

    # 100 iterations, 10 late in A and on time in B, no other difference: mean 0.1, s² = (10 - 1)/99, SE = 1/√1100
    a = np.zeros(100, dtype=bool)
    b = np.zeros(100, dtype=bool)
    b[:10] = True
    t = paired_test(a, b)
    assert t.diff == pytest.approx(0.1) and t.se == pytest.approx(1 / math.sqrt(1100), rel=1e-12)
    assert t.significant  # 0.1 > 3 · 0.0302


def test_paired_test_without_any_discordant_iteration_is_no_change():
    a = np.array([1, 0, 1, 1], dtype=bool)
    t = paired_test(a, a.copy())
    assert t.diff == 0 and t.se == 0 and not t.significant
    # every iteration late in B that was on time in A: no sampling error can explain it
    t = paired_test(np.ones(4, dtype=bool), np.zeros(4, dtype=bool))
    assert t.diff == -1 and t.se == 0 and t.significant


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=2, max_size=300))
def test_paired_test_is_the_mean_and_standard_error_of_the_differences(pairs):
    a, b = (np.array(x, dtype=bool) for x in zip(*pairs))
    d = b.astype(float) - a.astype(float)
    t = paired_test(a, b)
    assert t.diff == pytest.approx(d.mean(), abs=1e-12)
    assert t.se == pytest.approx(d.std(ddof=1) / math.sqrt(len(d)), abs=1e-12)


def test_unpaired_test_is_the_pooled_two_proportion_z_test():
    t = unpaired_test(0.5, 100, 0.6, 100)
    assert t.diff == pytest.approx(0.1) and t.se == pytest.approx(math.sqrt(0.55 * 0.45 * 0.02), rel=1e-12)
    assert not t.paired and not t.significant  # 0.1 < 3 · 0.0704
    assert unpaired_test(0.5, 1000, 0.6, 1000).significant  # SE 0.0222: 0.1 > 0.067
    assert Difference(0.0, 0.0, False).significant is False


def test_row_changes_names_the_rows_by_key():
    assert row_changes({"A": "1", "B": "2"}, {"A": "1", "B": "3", "C": "4"}) == "1 row added (C), 1 changed (B)"
    assert row_changes({"A": "1", "B": "2"}, {"A": "1"}) == "1 row removed (B)"
    many = {f"X{i:02d}": "0" for i in range(10)}
    assert row_changes({}, many) == "10 rows added (X00, X01, X02, X03, X04, X05, X06, X07, … 2 more)"
    assert row_changes(many, dict(many)).startswith("the same rows")


def test_row_hashes_only_for_the_bytes_the_run_read(tmp_path):
    (tmp_path / "risks.csv").write_text("risk_id,name,probability\nR1,a,0.1\nR2,b,0.2\n", encoding="utf-8")
    sha = __import__("hashlib").sha256((tmp_path / "risks.csv").read_bytes()).hexdigest()
    rows = row_hashes(str(tmp_path), {"risks.csv": sha})["risks.csv"]
    assert set(rows) == {"R1", "R2"} and rows["R1"] != rows["R2"]
    assert row_hashes(str(tmp_path), {"risks.csv": "0" * 64}) == {}  # changed since it was read: nothing said


def test_scenario_rules_name_each_rule_and_each_sweep_variants_factor():
    _, settings = load_target(ROOT / "scenarios" / "stoppage-2022.toml")
    assert scenario_rules(settings)["stoppage from 2022-03: every category"] == "3 months"
    assert scenario_rules(settings)["optimize objective"] == "lateness"
    portfolio, settings = load_target(ROOT / "scenarios" / "funding-grid.toml")
    rules = [scenario_rules(v.settings) for v in sweep_variants(portfolio, settings)]
    key = "sweep provincial: funding scale: provincial, 2022–2024"
    assert [r[key] for r in rules] == ["×1 (+0%)", "×0.9 (−10%)", "×0.8 (−20%)", "×0.7 (−30%)"]


# -- common random numbers -----------------------------------------------------------------------------------

def test_common_random_numbers_only_when_seed_iterations_scheme_and_layout_agree(runs, tmp_path):
    base, crn, cut = (load_run(runs[k]) for k in ("baseline", "cut_crn", "cut"))
    assert common_random_numbers(base, crn)[0]
    same, why = common_random_numbers(base, cut)
    assert not same and "seeds differ (2021 and 7)" in why and "iteration counts differ (2000 and 3000)" in why
    same, why = common_random_numbers(load_run(runs["old_baseline"]), load_run(runs["old_cut"]))
    assert not same and "no draw_layout" in why  # drawing by position, and the lists may differ
    other_layout = copy_run(runs["cut_crn"], tmp_path / "layout", simulation__draw_layout="0123456789abcdef")
    same, why = common_random_numbers(base, load_run(other_layout))
    assert not same and "lists differ" in why
    # draws keyed by ID: the same seed and iterations share random numbers whatever the lists
    keyed_a = copy_run(runs["baseline"], tmp_path / "keyed_a", simulation__draws="keyed")
    keyed_b = copy_run(other_layout, tmp_path / "keyed_b", simulation__draws="keyed")
    same, why = common_random_numbers(load_run(keyed_a), load_run(keyed_b))
    assert same and "keys the draws by ID" in why
    same, why = common_random_numbers(base, load_run(keyed_b))
    assert not same and "draw schemes differ (position and keyed)" in why
    other_blocks = copy_run(runs["again"], tmp_path / "blocks", simulation__block_size=512)
    same, why = common_random_numbers(base, load_run(other_blocks))
    assert not same and "block sizes differ (— and 512)" in why  # the fixture records no block size


# -- the command on sample runs ------------------------------------------------------------------------------

def test_compare_lists_moved_projects_probabilities_spending_and_inputs(runs, tmp_path):
    out_file = tmp_path / "diff.md"
    result = compare(runs["baseline"], runs["cut"], "--out", str(out_file))
    assert result.exit_code == 0, result.output
    md = result.output
    assert out_file.read_text(encoding="utf-8") == md
    assert md.startswith("# Comparison: baseline (A) → funding-cut (B)")

    inputs = section(md, "Inputs")
    assert f"- {CUT_RULE}: ×0.8 (−20%) (only in B)" in inputs
    activities = table_rows(inputs)["activities.csv"]
    assert activities[3] == "changed" and activities[4] == "2 rows changed (XAM-L8.T4, XIY-P3.T3)"
    assert "simulation seed" in inputs and "2021" in inputs and "| 7 " in inputs
    assert "simulation iterations" in inputs

    plan = section(md, "Planned finish")
    xiy = next(line for line in plan.splitlines() if line.startswith("| XIY-P3"))
    assert "2025-02" in xiy and "2025-04" in xiy and "+2" in xiy and "西安咸阳国际机场三期扩建工程" in xiy
    assert "| HJW-2" not in plan  # did not move
    assert "XIY-P3.T5" in plan  # activities that start later

    sim = section(md, "P(on time) and P80")
    rows = table_rows(sim)
    assert rows["XIY-P3"][9] == "worse" and rows["XIY-P3"][10] == "P(on time), P80"
    assert rows["HJW-2"][10] in ("no", "—")  # its inputs did not change: sampling noise only
    assert "PORTFOLIO" in rows
    # different seeds: no pairing, and the output says so
    assert "not treated as sharing common random numbers (the seeds differ (2021 and 7)" in sim
    assert "> 3 SE of the unpaired two-proportion z-test" in sim

    spend = section(md, "Spending by year")
    assert "**enterprise**" in spend and "**bond**" in spend
    assert "140.00 → 135.00" in spend  # a cap that changed


def test_compare_same_inputs_and_seed_reports_no_difference(runs, tmp_path):
    # another worker count or engine gives the same results: not a difference of the inputs
    again = copy_run(runs["again"], tmp_path / "again", simulation__workers=4, simulation__engine="simpy")
    result = compare(runs["baseline"], again)
    assert result.exit_code == 0, result.output
    md = result.output
    assert section(md, "Summary").strip() == ("No difference: the same inputs, the same plan and the same "
                                              "P(on time) and P80 for every project.")
    assert "## Warnings" not in md
    assert "All 5 input files are unchanged" in md and "Scenario rules and settings: the same (2)." in md
    assert "No project's planned finish moved." in md
    assert "Spending per year and source is unchanged." in md
    sim = section(md, "P(on time) and P80")
    assert {cells[9] for key, cells in table_rows(sim).items() if key != "Project"} == {"no change"}
    assert "The runs share common random numbers (same seed 2021, same 2,000 iterations" in sim


def test_compare_with_common_random_numbers_uses_the_paired_test(runs):
    md = compare(runs["baseline"], runs["cut_crn"]).output
    sim = section(md, "P(on time) and P80")
    assert "> 3 SE of the paired difference" in sim and "share common random numbers" in sim
    rows = table_rows(sim)
    # Only XIY-P3 and XAM-L8 changed: with the same draws, every other project's figures are identical.
    assert {k for k, c in rows.items() if c[9] != "no change" and k != "Project"} == {"XIY-P3", "XAM-L8"}
    worse = summary_groups(md)["Worse in B"]
    assert set(worse) == {"XIY-P3", "XAM-L8"}
    for pid in worse:
        a, b = decoded_bits(runs["baseline"])[pid], decoded_bits(runs["cut_crn"])[pid]
        d = b.astype(int) - a.astype(int)
        se = d.std(ddof=1) / math.sqrt(len(d))
        assert float(rows[pid][5]) == pytest.approx(100 * se, abs=0.05)
        assert ("beyond sampling error: P(on time)" in worse[pid]) == (abs(d.mean()) > 3 * se)
        assert points(worse[pid]) == pytest.approx(100 * d.mean(), abs=0.0501)


def test_a_change_of_a_hundredth_of_a_point_is_not_shown_as_zero(runs, tmp_path):
    nudged = copy_run(runs["again"], tmp_path / "nudged")
    sim = (nudged / "simulation.csv").read_text(encoding="utf-8-sig").splitlines()
    row = next(i for i, line in enumerate(sim) if line.startswith("XA-MED,"))
    assert ",1.0000," in sim[row]
    sim[row] = sim[row].replace(",1.0000,", ",0.9999,")  # as if 1 iteration in 10,000 were late
    (nudged / "simulation.csv").write_text("\n".join(sim) + "\n", encoding="utf-8")
    md = compare(runs["baseline"], nudged).output
    assert table_rows(section(md, "P(on time) and P80"))["XA-MED"][4] == "−0.01"
    assert "XA-MED 国家西安医学中心: P(on time) −0.01 points" in summary_groups(md)["Worse in B"]["XA-MED"]


def test_compare_warns_of_plans_not_proven_optimal_and_of_different_scenarios(runs, tmp_path):
    feasible = copy_run(runs["again"], tmp_path / "feasible", optimizer__status="feasible")
    md = compare(runs["baseline"], feasible).output
    warnings = section(md, "Warnings")
    assert "Run B's plan is not proven optimal (optimizer status: feasible)" in warnings
    assert "Run A's plan" not in warnings  # "OPTIMAL": proven
    assert "scenario names differ" not in warnings
    md = compare(runs["baseline"], runs["cut"]).output
    assert "The scenario names differ (baseline and funding-cut)" in section(md, "Warnings")


def test_compare_of_old_run_folders_says_what_it_cannot_tell(runs):
    md = compare(runs["old_baseline"], runs["old_cut"]).output
    inputs = section(md, "Inputs")
    assert "Scenario rules not compared: the manifests of runs A and B do not record them" in inputs
    assert table_rows(inputs)["activities.csv"][4] == "which rows: not known (runs A and B record no row hashes)"
    sim = section(md, "P(on time) and P80")
    assert "not treated as sharing common random numbers" in sim and "no draw_layout" in sim
    assert "unpaired two-proportion z-test" in sim
    # an old run against a new one: only the old one is named
    md = compare(runs["old_baseline"], runs["cut_crn"]).output
    assert "run A's manifest does not record them" in section(md, "Inputs")


def test_compare_with_a_plan_only_run_says_what_it_leaves_out(runs):
    result = compare(runs["plan_only"], runs["baseline"])
    assert result.exit_code == 0, result.output
    assert "Not compared: run A has no simulation.csv" in result.output
    assert "No project's planned finish moved." in result.output


def test_compare_missing_folder_exits_2(runs, tmp_path):
    result = compare(runs["baseline"], tmp_path / "nope")
    assert result.exit_code == 2
    assert "no such run folder" in result.output and "Traceback" not in result.output


def test_compare_bad_iterations_file_exits_2(runs, tmp_path):
    broken = copy_run(runs["again"], tmp_path / "broken")
    text = (broken / "iterations.csv").read_text(encoding="utf-8-sig").splitlines()
    text[1] = text[1].rsplit(",", 1)[0] + ",not*base64"
    (broken / "iterations.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    result = compare(runs["baseline"], broken)
    assert result.exit_code == 2 and "iterations.csv:2:3: on_time_bits: not base64 text" in result.output
    assert "Traceback" not in result.output


# -- HTML ----------------------------------------------------------------------------------------------------

class Page(HTMLParser):
    """Checks that every tag is closed in order, and collects the text of cells, list items and paragraphs."""

    VOID = {"meta", "br"}

    def __init__(self):
        super().__init__()
        self.stack, self.texts, self.cells, self.links = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.links += [v for k, v in attrs if k in ("src", "href")]
        if tag not in self.VOID:
            self.stack.append((tag, []))

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1][0] == tag, f"</{tag}> closes <{self.stack[-1][0] if self.stack else ''}>"
        tag, parts = self.stack.pop()
        text = "".join(parts)
        if tag in ("td", "th"):
            self.cells.append(text)
        if tag in ("td", "th", "li", "p", "h1", "h2", "title"):
            self.texts.append(text)
        if self.stack:
            self.stack[-1][1].append(text)

    def handle_data(self, data):
        if self.stack:
            self.stack[-1][1].append(data)


def test_html_is_well_formed_and_carries_the_same_facts(runs, tmp_path):
    out_file = tmp_path / "diff.html"
    result = compare(runs["baseline"], runs["cut_crn"], "--out", str(out_file))
    assert result.exit_code == 0, result.output
    page_text = out_file.read_text(encoding="utf-8")
    assert result.output == f"wrote {out_file}\n" and page_text.startswith("<!DOCTYPE html>")
    assert compare(runs["baseline"], runs["cut_crn"], "--format", "html").output == page_text
    page = Page()
    page.feed(page_text)
    page.close()
    assert page.stack == [] and page.links == []  # every tag closed; nothing loaded from elsewhere
    md = compare(runs["baseline"], runs["cut_crn"]).output
    for cells in table_rows(md).values():  # every cell of every table
        for cell in cells:
            assert cell.replace("`", "").replace("\\|", "|") in page.cells
    text = "\n".join(page.texts)
    assert CHARTS_NOTE in md and "portfolio compare --format html" not in text  # the page has the charts instead
    for line in md.splitlines():  # every sentence and list item, without the Markdown marks
        if line and not line.startswith("|") and line != CHARTS_NOTE:
            assert line.lstrip("#- ").replace("`", "").replace("**", "") in text


# -- real runs of the bundled scenarios ----------------------------------------------------------------------

def test_real_runs_record_rules_row_hashes_draws_and_on_time_per_iteration(real_runs):
    manifest = json.loads((real_runs["funding-cut"] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scenario_rules"][CUT_RULE] == "×0.8 (−20%)"
    activities = pd.read_csv(ROOT / "data" / "activities.csv", dtype=str)
    assert set(manifest["input_rows"]["activities.csv"]) == set(activities.activity_id)
    assert manifest["simulation"]["draws"] == "keyed" and "draw_layout" not in manifest["simulation"]
    sim = pd.read_csv(real_runs["funding-cut"] / "simulation.csv")
    bits = decoded_bits(real_runs["funding-cut"])
    for pid, p in zip(sim.project_id, sim.p_on_time):
        assert len(bits[pid]) == 2048 and bits[pid].mean() == pytest.approx(p, abs=5e-5)


def test_real_runs_of_identical_inputs_report_no_difference(real_runs):
    result = compare(real_runs["baseline"], real_runs["again"])
    assert result.exit_code == 0, result.output
    md = result.output
    assert "No difference: the same inputs, the same plan and the same P(on time) and P80" in section(md, "Summary")
    assert "The runs share common random numbers" in md and "paired difference" in md


def test_real_baseline_and_funding_cut_name_the_cut_and_the_projects_it_hurts(real_runs):
    a, b = real_runs["baseline"], real_runs["funding-cut"]
    result = compare(a, b)
    assert result.exit_code == 0, result.output
    md = result.output
    assert f"- {CUT_RULE}: ×0.8 (−20%) (only in B)" in section(md, "Inputs")
    assert "All 6 input files are unchanged" in section(md, "Inputs")

    warnings = section(md, "Warnings")
    assert "The scenario names differ (baseline and funding-cut)" in warnings
    for name, folder in (("A", a), ("B", b)):
        status = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["optimizer"]["status"]
        assert (f"Run {name}'s plan is not proven optimal (optimizer status: {status})" in warnings) == \
            (status != "optimal")

    sa, sb = (pd.read_csv(f / "simulation.csv").set_index("project_id") for f in (a, b))
    bits_a, bits_b = decoded_bits(a), decoded_bits(b)
    p80 = {pid: (pd.Period(sb.finish_p80[pid], "M") - pd.Period(sa.finish_p80[pid], "M")).n for pid in sa.index}
    expected_worse = {pid for pid in sa.index if pid != "PORTFOLIO"
                      and (sb.p_on_time[pid] < sa.p_on_time[pid] or p80[pid] > 0)
                      and not (sb.p_on_time[pid] > sa.p_on_time[pid] or p80[pid] < 0)}
    worse = summary_groups(md).get("Worse in B", {})
    assert set(worse) == expected_worse and expected_worse, "the provincial cut makes no project worse"
    assert "> 3 SE of the paired difference" in section(md, "P(on time) and P80")
    beyond = 0
    for pid, line in worse.items():
        d = bits_b[pid].astype(int) - bits_a[pid].astype(int)
        if d.any():
            # shown to 0.1 point, from simulation.csv's 4-decimal P(on time): within 0.05 + 0.01 of the bits
            assert points(line) == pytest.approx(100 * (sb.p_on_time[pid] - sa.p_on_time[pid]), abs=0.0501)
            assert points(line) == pytest.approx(100 * d.mean(), abs=0.0601)
        if p80[pid]:
            assert f"P80 +{p80[pid]} month" in line
        significant = d.any() and abs(d.mean()) > 3 * d.std(ddof=1) / math.sqrt(len(d))
        named_beyond = "beyond sampling error:" in line and "P(on time)" in line.split("beyond sampling error:")[-1]
        assert named_beyond == significant, line
        beyond += significant
    assert beyond, "no project is worse beyond sampling error"


def test_changed_data_rows_are_named_and_keyed_draws_of_other_lists_are_paired(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    lines = (data / "activities.csv").read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    first = next(i for i, x in enumerate(lines) if x.startswith("XA-MED.T2,"))
    cells = lines[first].split(",")
    cells[header.index("most_likely")] = str(float(cells[header.index("most_likely")]) + 3)
    lines[first] = ",".join(cells)
    lines.append(lines[first].replace("XA-MED.T2,", "XA-MED.TX,", 1))  # a new parallel phase
    (data / "activities.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    folders = []
    for name, target in (("a", ROOT / "data"), ("b", data)):
        portfolio, settings = load_target(target)
        result = simulate.run(portfolio, settings, iterations=512)
        (tmp_path / name).mkdir()
        simulate.write_outputs(result, tmp_path / name)
        folders.append(tmp_path / name)
    md = compare(*folders).output
    activities = table_rows(section(md, "Inputs"))["activities.csv"]
    assert activities[4] == "1 row added (XA-MED.TX), 1 changed (XA-MED.T2)"
    sim = section(md, "P(on time) and P80")
    assert "keys the draws by ID" in sim and "SE of the paired" in sim  # other rows do not move a row's draws
