"""Sweeps without a cluster: the [sweep] grid of a scenario file, its variants, the sweep folder and its summary.

The same sweep on a Dask cluster is in tests/test_dask.py.
"""
from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

import cli
import runs.sweep as sweep_module
from portfolio.errors import InputError
from report.sweep import SUMMARY_COLUMNS
from runs.sweep import folder_name, load_variants, run_sweep
from scenario_support import problems_of, write_scenario
from scenarios.load import load_scenario, sweep_variants

FUNDING = ("year,source,cap\n2021,provincial,120\n2022,provincial,120\n2021,local,40\n2022,local,40\n"
           "2023,local,40\n")


def invoke(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args])


@pytest.fixture
def data(write_data):
    return write_data({"funding.csv": FUNDING})


def caps(portfolio) -> dict:
    return {(f.year, f.source): f.cap for f in portfolio.funding}


# -- the [sweep] table ---------------------------------------------------------------------------------------

def test_a_grid_is_every_combination_of_the_axes(data):
    path = write_scenario(data.parent, 'name = "cut"\ndata = "data"\n'
                                       '[[funding.scale]]\nsources = ["local"]\nfactor = 0.5\n'
                                       '[[sweep.funding]]\nsources = ["provincial"]\nfrom = 2022\nto = 2022\n'
                                       'factors = [1.0, 0.8, 0.5]\n'
                                       '[[sweep.funding]]\nname = "loc"\nsources = ["local"]\nfactors = [1, 2]\n')
    portfolio, settings = load_scenario(path)
    assert [a.label for a in settings.sweep] == ["provincial", "loc"]
    assert settings.sweep[0].first == 2022 and settings.sweep[0].last == 2022
    variants = sweep_variants(portfolio, settings)
    assert [v.name for v in variants] == ["cut-provincial1-loc1", "cut-provincial1-loc2", "cut-provincial0.8-loc1",
                                          "cut-provincial0.8-loc2", "cut-provincial0.5-loc1", "cut-provincial0.5-loc2"]
    v = variants[3]
    assert v.factors == (("provincial", 0.8), ("loc", 2.0)) and v.settings.name == v.name and v.settings.sweep == ()
    c = caps(v.portfolio)
    assert c[(2021, "provincial")] == 120 and c[(2022, "provincial")] == pytest.approx(96)
    assert c[(2023, "local")] == pytest.approx(40)  # the file's own 0.5, then the grid's 2
    assert caps(portfolio)[(2022, "provincial")] == 120  # the scenario itself is left as it was


def test_without_a_grid_the_scenario_is_its_only_variant(data):
    portfolio, settings = load_scenario(write_scenario(data.parent, 'name = "plain"\ndata = "data"\n'))
    [v] = sweep_variants(portfolio, settings)
    assert v.name == "plain" and v.portfolio is portfolio and v.factors == ()


def test_a_grid_over_every_source(data):
    portfolio, settings = load_scenario(write_scenario(data.parent, 'data = "data"\n[[sweep.funding]]\n'
                                                                    "factors = [0.5]\n"))
    [v] = sweep_variants(portfolio, settings)
    assert v.name == "s-funding0.5" and all(v.portfolio.funding[k].cap == f.cap / 2
                                            for k, f in enumerate(portfolio.funding))


@pytest.mark.parametrize("text, expected", [
    ("[sweep]\nfactors = [1]\n", "s.toml:3:1: unknown key 'factors' in [sweep] (known: funding)"),
    ("[[sweep.funding]]\nfactor = 0.8\n", "s.toml:3:1: unknown key 'factor' in [[sweep.funding]]"),
    ("[[sweep.funding]]\nfactors = []\n", "s.toml:3:1: each [[sweep.funding]] needs factors = a list of numbers"),
    ("[[sweep.funding]]\nfactors = [1, -0.5]\n", "needs factors = a list of numbers >= 0"),
    ("[[sweep.funding]]\nfactors = [1, 1.0]\n", "factors of a [[sweep.funding]] must differ"),
    ('[[sweep.funding]]\nsources = "provincial"\nfactors = [1]\n', "sources must be a list of funding sources"),
    ("[[sweep.funding]]\nfrom = 2024\nto = 2022\nfactors = [1]\n", "s.toml:3:1: [[sweep.funding]]: from = 2024 is "
                                                                    "after to = 2022"),
    ("[[sweep.funding]]\nfrom = \"2022\"\nfactors = [1]\n", "from must be a whole number"),
    ('[[sweep.funding]]\nname = "a b"\nfactors = [1]\n', "name of a [[sweep.funding]] must be letters"),
    ("[[sweep.funding]]\nfactors = [1]\n[[sweep.funding]]\nfactors = [2]\n", "two [[sweep.funding]] axes are named "
                                                                           "'funding'"),
    ('[[sweep.funding]]\nsources = ["bond"]\nfactors = [1]\n', "no funding caps for source 'bond' (sources with "
                                                              "caps: local, provincial)"),
])
def test_problems_in_the_grid_name_the_line(data, text, expected):
    path = write_scenario(data.parent, 'data = "data"\n' + text)
    problems = problems_of(path)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(str(path)) for p in problems)


# -- the sweep -------------------------------------------------------------------------------------------------

GRID = ('name = "mini"\ndata = "data"\n[simulate]\niterations = 300\nseed = 7\n'
        '[[sweep.funding]]\nsources = ["provincial"]\nfactors = [1.5, 1.0, 0.9, 0.5]\n')


def test_sweep_writes_one_run_folder_per_variant_and_a_summary(data, tmp_path):
    path = write_scenario(data.parent, GRID)
    other = write_scenario(data.parent, 'name = "other"\ndata = "data"\n[simulate]\niterations = 200\n', "o.toml")
    out = tmp_path / "sweep"
    result = invoke("sweep", path, other, "--out", out)
    # factor 0.5 leaves 60 a year for the 100 a year the running XIY.T2 needs: no plan, exit 1
    assert result.exit_code == 1, result.output
    assert "1 of 5 variants have no plan: mini-provincial0.5" in result.output
    assert "[1/5] mini-provincial1.5: plan optimal" in result.output
    folders = sorted(p.name for p in out.iterdir())
    assert folders == ["manifest.json", "mini-provincial0.9", "mini-provincial1", "mini-provincial1.5", "other",
                       "summary.csv", "summary.html", "summary.md"]
    for name in ("mini-provincial1", "other"):
        for f in ("schedule.csv", "projects.csv", "funding.csv", "simulation.csv", "criticality.csv", "report.md",
                  "report.html"):
            assert (out / name / f).is_file(), (name, f)
    manifest = json.loads((out / "mini-provincial0.9" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scenario"] == "mini-provincial0.9" and manifest["simulation"]["iterations"] == 300
    assert manifest["sweep"] == {"scenario": "mini", "variant": "mini-provincial0.9", "funding_scales": [
        {"name": "provincial", "sources": ["provincial"], "from": None, "to": None, "factor": 0.9}]}
    funding = (out / "mini-provincial0.9" / "funding.csv").read_text(encoding="utf-8-sig").splitlines()
    assert [r.split(",")[3] for r in funding if r.startswith("2022,provincial,")] == ["108.0"]  # 120 x 0.9

    rows = list(csv.DictReader(io.StringIO((out / "summary.csv").read_text(encoding="utf-8-sig"))))
    assert list(rows[0]) == SUMMARY_COLUMNS
    assert [r["variant"] for r in rows] == (["mini-provincial1.5"] * 3 + ["mini-provincial1"] * 3
                                            + ["mini-provincial0.9"] * 3 + ["mini-provincial0.5"] * 2 + ["other"] * 3)
    sim = {r["project_id"]: r for r in csv.DictReader(open(out / "mini-provincial1" / "simulation.csv",
                                                           encoding="utf-8-sig"))}
    first = {r["project_id"]: r for r in rows if r["variant"] == "mini-provincial1"}
    assert first["HJW"]["p_on_time"] == sim["HJW"]["p_on_time"] and first["PORTFOLIO"]["finish_p80"] == \
        sim["PORTFOLIO"]["finish_p80"]
    assert first["XIY"]["plan_status"] == "optimal" and first["XIY"]["factors"] == "provincial x1"
    failed = [r for r in rows if r["variant"] == "mini-provincial0.5"]
    assert {r["plan_status"] for r in failed} == {"infeasible"} and {r["p_on_time"] for r in failed} == {""}

    md = (out / "summary.md").read_text(encoding="utf-8")
    assert md.startswith("# Sweep: 5 variants")
    assert "## P(on time) per project" in md and "## P80 finish per project" in md
    assert "**mini-provincial0.5** (infeasible):" in md and "short by" in md
    assert "[mini-provincial1](mini-provincial1/report.md)" in md
    assert "different random numbers" in md  # 300 and 200 iterations
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert '<svg id="chart-heatmap"' in page and '<svg id="chart-dumbbell"' in page and "<script" not in page
    assert "What changed in the inputs" in page and "provincial ×0.9" in page and "Finish shifts" in page
    assert '<a href="mini-provincial1/report.html">' in page and "no plan" in page  # 0.5 has none
    assert "Reference: mini-provincial1.5" in md and "Reference: mini-provincial1.5" in page
    top = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [v["folder"] for v in top["sweep"]] == ["mini-provincial1.5", "mini-provincial1", "mini-provincial0.9",
                                                   "", "other"]
    assert set(top["scenario_files"]) == {"s.toml", "o.toml"} and "written_at" in top


def test_same_seed_variants_are_said_to_share_their_random_numbers(data, tmp_path):
    path = write_scenario(data.parent, GRID.replace("0.9, 0.5", "0.9"))
    result = run_sweep([path], tmp_path / "s", iterations=200, workers=2, report=False)
    assert not result.without_plan and len(result.outcomes) == 3
    md = (tmp_path / "s" / "summary.md").read_text(encoding="utf-8")
    assert "All drew the same random numbers (seed 7, engine " in md
    assert not (tmp_path / "s" / "mini-provincial1" / "report.md").exists()
    page = (tmp_path / "s" / "summary.html").read_bytes()
    sweep_module.write_summary(result)
    assert (tmp_path / "s" / "summary.html").read_bytes() == page  # the same sweep, the same bytes


def test_sweep_charts_have_titles_axis_labels_and_labels_on_the_marks():
    from report.fonts import chart_style
    from report.sweep_html import dumbbell_chart, heatmap_chart

    projects = {"A": {"name_zh": "甲", "deadline": "2025-12", "p": {"a": 0.9, "b": 0.2}, "p80": {"a": 1, "b": 3}}}
    with chart_style():
        heat = heatmap_chart(projects, ["a", "b"], {"b": "provincial ×0.7"})
        bell = dumbbell_chart(projects, ["a", "b"], {})
    for fig in (heat, bell):
        ax = fig.axes[0]
        assert ax.get_title(loc="left") and (ax.get_xlabel() or ax.get_ylabel())
        assert [t.get_text() for t in ax.get_yticklabels()] == ["甲 (A)"]
    assert sorted(t.get_text() for t in heat.axes[0].texts) == ["20%", "90%"]  # the value in every cell
    assert [t.get_text() for t in bell.legends[0].get_texts()] == ["a (reference)", "b"]


def test_two_variants_with_one_folder_name_exit_2(data, tmp_path):
    a = write_scenario(data.parent, 'name = "same"\ndata = "data"\n', "a.toml")
    b = write_scenario(data.parent, 'name = "Same"\ndata = "data"\n', "b.toml")
    result = invoke("sweep", a, b, "--out", tmp_path / "x")
    assert result.exit_code == 2 and "two variants would write the folder 'Same'" in result.output
    assert str(b) in result.output and not (tmp_path / "x").exists()


def test_folder_names_are_safe():
    assert folder_name("cut-provincial0.8") == "cut-provincial0.8"
    assert folder_name("资金 削减/2022") == "资金_削减_2022"
    assert folder_name("..") == "variant"


def test_an_interrupted_sweep_keeps_the_variants_it_finished(data, tmp_path, monkeypatch):
    path = write_scenario(data.parent, GRID.replace(", 0.5", ""))
    real = sweep_module.simulate.run
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sweep_module.simulate, "run", interrupted)
    out = tmp_path / "sweep"
    result = invoke("sweep", path, "--out", out)
    assert result.exit_code == 130
    assert "interrupted; the variants listed above are complete" in result.output
    assert "[1/3] mini-provincial1.5" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["mini-provincial1.5"]  # whole, and no half-written folder


def test_load_variants_needs_a_scenario():
    with pytest.raises(InputError, match="no scenario given"):
        load_variants([])


def test_the_bundled_grid_has_four_variants():
    from pathlib import Path

    portfolio, settings = load_scenario(Path(cli.__file__).parent / "scenarios" / "funding-grid.toml")
    variants = sweep_variants(portfolio, settings)
    assert [v.name for v in variants] == ["funding-grid-provincial1", "funding-grid-provincial0.9",
                                          "funding-grid-provincial0.8", "funding-grid-provincial0.7"]
    base, cut = caps(variants[0].portfolio), caps(variants[3].portfolio)
    assert all(cut[k] == pytest.approx(base[k] * (0.7 if k[1] == "provincial" and 2022 <= k[0] <= 2024 else 1))
               for k in base)


def test_the_sweep_signal_is_the_largest_change_against_the_reference():
    from report.sweep_html import largest_changes, shift_rows, signal_sentences

    projects = {"G5-PL": {"name_zh": "G5京昆高速", "deadline": "2025-12", "p": {"a": 1.0, "b": 0.9, "c": 0.24},
                          "p80": {"a": 100, "b": 100, "c": 104}},
                "HJW-1": {"name_zh": "引汉济渭", "deadline": "2025-12", "p": {"a": 0.5, "b": 0.52, "c": 0.5},
                          "p80": {"a": 90, "b": 90, "c": 90}}}
    assert [(round(d, 2), p, v) for d, p, v in largest_changes(projects, ["a", "b", "c"])] == [
        (-0.76, "G5-PL", "c"), (-0.1, "G5-PL", "b"), (0.02, "HJW-1", "b")]
    text = signal_sentences(projects, ["a", "b", "c"], {"c": "provincial ×0.7"})
    assert "At provincial ×0.7, G5京昆高速 (G5-PL, due 2025-12) falls from 100% to 24% on time." in text
    assert shift_rows(projects, ["a", "b", "c"]) == [("G5-PL", [0, 4])]
