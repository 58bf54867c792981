"""Hardened reading of a data folder: numeric limits, ids and their lookalikes, full-width punctuation,
non-regular files, formula-like output cells, finishes beyond the horizon, GBK-safe bundled data."""
from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import cli
from portfolio.load import check_portfolio, load_portfolio
from portfolio.model import Link
from portfolio.runfolder import write_csv

from test_load import edited, problems_of

ROOT = Path(__file__).resolve().parents[1]
LIMIT = "(the limit in docs/data.md)"
NO_UNDERSCORE = '(write the digits without "_")'
LONG_LAG = "HJW.T1:FS+" + "9" * 5000


def validate(folder):
    return CliRunner().invoke(cli.main, ["validate", str(folder)])


# -- numbers: finite and within the stated limits ---------------------------------------------------

# (case id, edits of the mini folder, expected problem as (file, line, column, message))
NUMBER_CASES = [
    ("cost 1e308", [("activities.csv", "XIY.T1,300,provincial", "XIY.T1,1e308,provincial")],
     ("activities.csv", 3, 8, f'cost: expected at most 1,000,000 亿元 {LIMIT}, got "1e308"')),
    ("cost inf", [("activities.csv", "XIY.T1,300,provincial", "XIY.T1,inf,provincial")],
     ("activities.csv", 3, 8, 'cost: expected a number >= 0, got "inf"')),
    ("budget", [("projects.csv", "476.45", "4e6")],
     ("projects.csv", 2, 8, f'budget: expected at most 1,000,000 亿元 {LIMIT}, got "4e6"')),
    ("cap", [("funding.csv", "2022,provincial,120", "2022,provincial,1e300")],
     ("funding.csv", 3, 3, f'cap: expected at most 1,000,000 亿元 {LIMIT}, got "1e300"')),
    ("priority", [("projects.csv", "省水利厅,2,", "省水利厅,1e9,")],
     ("projects.csv", 3, 6, f'priority: expected at most 1,000 {LIMIT}, got "1e9"')),
    ("capacity", [("resources.csv", "TBM,盾构机,2", "TBM,盾构机,1e19")],
     ("resources.csv", 2, 3, f'capacity: expected at most 1,000,000 units {LIMIT}, got "1e19"')),
    ("duration", [("activities.csv", "输配水管线,12,14,20", "输配水管线,12,14,601")],
     ("activities.csv", 6, 6, f'pessimistic: expected at most 600 months {LIMIT}, got "601"')),
    ("risk delay", [("risks.csv", "0.3,1,3,6", "0.3,1,3,1e12")],
     ("risks.csv", 2, 6, f'pessimistic: expected at most 600 months {LIMIT}, got "1e12"')),
    ("probability nan", [("risks.csv", "0.3,1,3,6", "nan,1,3,6")],
     ("risks.csv", 2, 3, 'probability: expected a number from 0 to 1, got "nan"')),
    ("lag", [("activities.csv", "HJW.T1:FF+2", "HJW.T1:FS+99999999999999999999")],
     ("activities.csv", 6, 7, "predecessors: expected a lag of at most 600 months either way "
                              f'{LIMIT}, got "HJW.T1:FS+99999999999999999999"')),
    ("month", [("activities.csv", "2021-06", "0001-06")],
     ("activities.csv", 5, 10, 'earliest_start: expected a month from 1900-01 to 2199-12, got "0001-06"')),
    ("year", [("funding.csv", "2021,", "9999,")],
     ("funding.csv", 2, 1, 'year: expected a year from 1900 to 2199, got "9999"')),
    # more digits than int() reads (sys.get_int_max_str_digits, 4300): a problem, not a ValueError
    ("lag of 5000 digits", [("activities.csv", "HJW.T1:FF+2", LONG_LAG)],
     ("activities.csv", 6, 7, f'predecessors: expected a lag of at most 600 months either way {LIMIT}, got "{LONG_LAG}"')),
    ("link known since", [("activities.csv", "HJW.T1:FF+2", "HJW.T1:FF+2@0001-01")],
     ("activities.csv", 6, 7, "predecessors: expected a month from 1900-01 to 2199-12 after @ (the month the link "
                              'became known), got "HJW.T1:FF+2@0001-01"')),
    # Python's digit grouping is not a number a planner writes: refused in every numeric field
    ("cost 1_000", [("activities.csv", "XIY.T1,300,provincial", "XIY.T1,1_000,provincial")],
     ("activities.csv", 3, 8, f'cost: expected a number >= 0, got "1_000" {NO_UNDERSCORE}')),
    ("cap 1_0", [("funding.csv", "2022,provincial,120", "2022,provincial,1_20")],
     ("funding.csv", 3, 3, f'cap: expected a number >= 0, got "1_20" {NO_UNDERSCORE}')),
    ("budget 4_76.45", [("projects.csv", "476.45", "4_76.45")],
     ("projects.csv", 2, 8, f'budget: expected a number >= 0, got "4_76.45" {NO_UNDERSCORE}')),
    ("duration 1_2", [("activities.csv", "输配水管线,12,14,20", "输配水管线,1_2,14,20")],
     ("activities.csv", 6, 4, f'optimistic: expected a number > 0, got "1_2" {NO_UNDERSCORE}')),
    ("probability 0.3_0", [("risks.csv", "0.3,1,3,6", "0.3_0,1,3,6")],
     ("risks.csv", 2, 3, f'probability: expected a number from 0 to 1, got "0.3_0" {NO_UNDERSCORE}')),
    ("capacity 1_0", [("resources.csv", "TBM,盾构机,2", "TBM,盾构机,1_0")],
     ("resources.csv", 2, 3, f'capacity: expected a number > 0, got "1_0" {NO_UNDERSCORE}')),
    ("units 1_0", [("activities.csv", "TBM:1", "TBM:1_0")],
     ("activities.csv", 5, 13, "resources: expected RESOURCE_ID or RESOURCE_ID:units (units a number > 0), "
                               f'got "TBM:1_0" {NO_UNDERSCORE}')),
]


@pytest.mark.parametrize("edits, expected", [c[1:] for c in NUMBER_CASES], ids=[c[0] for c in NUMBER_CASES])
def test_numbers_beyond_the_limits_are_one_clear_problem(write_data, mini_files, edits, expected):
    folder = write_data(edited(mini_files, edits))
    assert problems_of(folder) == [expected]


def test_costs_that_add_up_beyond_the_total_limit_are_named_at_the_row_that_crosses_it(write_data, mini_files):
    rows = "".join(f"HJW.X{k},HJW,大额,1,1,1,,900000,central,,,,,estimate\n" for k in range(12))
    folder = write_data({"activities.csv": mini_files["activities.csv"] + rows})
    assert problems_of(folder) == [
        ("activities.csv", 18, 8, f"cost: the costs up to this row add up to more than 10,000,000 亿元 {LIMIT}")]


def test_negative_zero_is_read_as_zero(write_data, mini_files):
    """``-0`` is in range, but kept as -0.0 it would print as "-0" in outputs."""
    folder = write_data(edited(mini_files, [("activities.csv", "XIY.T1,300,provincial", "XIY.T1,-0,provincial"),
                                            ("activities.csv", "HJW.T1:FF+2", "HJW.T1:FF-0")]))
    p = load_portfolio(str(folder))
    cost = next(a.cost for a in p.activities if a.activity_id == "XIY.T2")
    assert cost == 0 and math.copysign(1, cost) == 1
    assert next(a for a in p.activities if a.activity_id == "HJW.T2").predecessors == (Link("HJW.T1", "FF", 0),)


@pytest.mark.parametrize("edit", [("activities.csv", "HJW.T1:FF+2", "HJW.T1:FS+99999999999999999999"),
                                  ("activities.csv", "HJW.T1:FF+2", LONG_LAG),
                                  ("activities.csv", "XIY.T1,300,provincial", "XIY.T1,1e308,provincial")])
def test_validate_overflowing_numbers_exit_2_without_a_traceback(write_data, mini_files, edit):
    folder = write_data(edited(mini_files, [edit]))
    result = validate(folder)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    [line] = result.output.splitlines()
    assert line.startswith(os.path.join(str(folder), "activities.csv") + ":")
    assert f"at most 600 months either way {LIMIT}" in line or f"at most 1,000,000 亿元 {LIMIT}" in line


# -- ids: normalised, lookalikes and invisible characters named ----------------------------------

def test_full_width_ids_are_the_same_activity(write_data, mini_files):
    # An input method's full-width letters fold to ASCII (NFKC): the reference names XIY.T1 ...
    folder = write_data(edited(mini_files, [("activities.csv", "36,48,XIY.T1,", "36,48,ＸＩＹ．Ｔ１,")]))
    portfolio = load_portfolio(str(folder))
    assert portfolio.activity("XIY.T2").predecessors == (Link("XIY.T1"),)
    # ... and a second definition spelled in full width is a duplicate, not a second activity.
    folder = write_data(edited(mini_files, [("activities.csv", "local,,,,,estimate\n",
                                             "local,,,,,estimate\nＸＩＹ.T1,XIY,重复,1,1,1,,0,central,,,,,\n")]),
                        name="dup")
    assert problems_of(folder) == [
        ("activities.csv", 7, 1, 'activity_id: duplicate "XIY.T1" (written "ＸＩＹ.T1"; first on line 2)')]


def test_a_cyrillic_lookalike_in_an_activity_id_is_named(write_data, mini_files):
    # XIY.Т1 with a Cyrillic Т beside XIY.T1: before, two distinct activities.
    folder = write_data(edited(mini_files, [("activities.csv", "local,,,,,estimate\n",
                                             "local,,,,,estimate\nXIY.Т1,XIY,重复,1,1,1,,0,central,,,,,\n")]))
    assert problems_of(folder) == [
        ("activities.csv", 7, 1, 'activity_id: "XIY.Т1" mixes Latin and Cyrillic letters '
                                 "(U+0422 CYRILLIC CAPITAL LETTER TE), which can look alike (retype the id in one alphabet)")]


def test_a_cyrillic_lookalike_in_a_project_id_and_its_reference_are_named(write_data, mini_files):
    folder = write_data(edited(mini_files, [("projects.csv", "HJW,引汉", "НJW,引汉"), ("activities.csv", ",HJW,", ",НJW,")]))
    message = ('"НJW" mixes Latin and Cyrillic letters (U+041D CYRILLIC CAPITAL LETTER EN), which can look alike '
               "(retype the id in one alphabet)")
    assert problems_of(folder) == [("activities.csv", 5, 2, f"project_id: {message}"),
                                   ("activities.csv", 6, 2, f"project_id: {message}"),
                                   ("projects.csv", 3, 1, f"project_id: {message}")]


def test_a_zero_width_space_in_an_id_or_a_reference_is_named(write_data, mini_files):
    folder = write_data(edited(mini_files, [("activities.csv", "HJW.T2,HJW", "HJW.T2\u200b,HJW"),
                                            ("risks.csv", ",HJW.T1,", ",HJW.T1\u200b,")]))
    assert problems_of(folder) == [
        ("activities.csv", 6, 1, 'activity_id: invisible character U+200B ZERO WIDTH SPACE in "HJW.T2<U+200B>" '
                                 "(delete it and retype the id)"),
        ("risks.csv", 2, 7, 'affects: invisible character U+200B ZERO WIDTH SPACE in "HJW.T1<U+200B>" '
                            "(delete it and retype the id)"),
    ]


def test_han_beside_latin_is_one_alphabet(write_data, mini_files):
    folder = write_data(edited(mini_files, [("activities.csv", "XIY.T3,XIY", "西延.T3,XIY")]))
    assert load_portfolio(str(folder)).activity("西延.T3").project_id == "XIY"


# -- friendlier lists and suggestions (issue 20) -----------------------------------------------------

def test_full_width_separators_and_signs_in_lists_are_accepted(write_data, mini_files):
    folder = write_data(edited(mini_files, [
        ("activities.csv", "XIY.T2:SS+12;XIY.T1", "XIY.T2：SS＋12；XIY.T1"),
        ("activities.csv", "HJW.T1:FF+2", "HJW.T1：ff－2"),
        ("activities.csv", "CRANE:2", "CRANE：2"),
        ("risks.csv", "HJW.T2;category:aviation", "HJW.T2，category：aviation"),
    ]))
    portfolio = load_portfolio(str(folder))
    assert portfolio.activity("XIY.T3").predecessors == (Link("XIY.T2", "SS", 12), Link("XIY.T1"))
    assert portfolio.activity("HJW.T2").predecessors == (Link("HJW.T1", "FF", -2),)
    assert portfolio.activity("XIY.T2").resources == (("CRANE", 2.0),)
    assert portfolio.risks[1].affects == ("XIY.T1", "XIY.T2", "XIY.T3", "HJW.T2")


def test_the_issue_20_predecessor_list_is_two_activities():
    # XIY-P3.T7's predecessors with the semicolon a Chinese input method types.
    folder_files = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "data").glob("*.csv")}
    assert "XIY-P3.T4;XIY-P3.T5" in folder_files["activities.csv"]
    text = folder_files["activities.csv"].replace("XIY-P3.T4;XIY-P3.T5", "XIY-P3.T4；XIY-P3.T5")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name, content in {**folder_files, "activities.csv": text}.items():
            Path(tmp, name).write_text(content, encoding="utf-8")
        portfolio, problems = check_portfolio(tmp)
    assert problems == []
    assert [str(link) for link in portfolio.activity("XIY-P3.T7").predecessors][:2] == ["XIY-P3.T4", "XIY-P3.T5"]


@pytest.mark.parametrize("edits, expected", [
    ([("activities.csv", "XIY.T2:SS+12", "XIY.T22:SS+12")],
     ("activities.csv", 4, 7, 'predecessors: unknown activity "XIY.T22" in "XIY.T22:SS+12"; did you mean "XIY.T2"?')),
    ([("projects.csv", ",aviation,", ",avaition,")],
     ("projects.csv", 2, 4, 'category: expected one of aviation, water, rail, metro, road, logistics, health, other, '
                            'got "avaition"; did you mean "aviation"?')),
    ([("risks.csv", "category:aviation", "category:aviaton")],
     ("risks.csv", 3, 7, 'affects: unknown category "aviaton"; did you mean "aviation"? (expected one of aviation, '
                         "water, rail, metro, road, logistics, health, other)")),
    ([("activities.csv", "XIY.T2:SS+12", "QQQQQQ:SS+12")],
     ("activities.csv", 4, 7, 'predecessors: unknown activity "QQQQQQ" in "QQQQQQ:SS+12"')),
], ids=["predecessor", "category", "risk category", "nothing close"])
def test_unknown_names_get_the_closest_known_one(write_data, mini_files, edits, expected):
    assert problems_of(write_data(edited(mini_files, edits))) == [expected]


# -- files that are not regular files ----------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_fifo_in_the_data_folder_is_a_problem_not_a_hang(write_data):
    folder = write_data({"risks.csv": None})
    os.mkfifo(folder / "risks.csv")
    run = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "validate", str(folder)],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines() == [
        f"{os.path.join(str(folder), 'risks.csv')}:0:0: not a regular file (a named pipe; expected a CSV file)"]


def test_a_folder_in_place_of_a_file_is_a_problem(write_data):
    folder = write_data({"funding.csv": None})
    (folder / "funding.csv").mkdir()
    assert problems_of(folder) == [("funding.csv", 0, 0, "not a regular file (a folder; expected a CSV file)")]


# -- output cells a spreadsheet would run as formulas -----------------------------------------------

def test_write_csv_neutralises_formula_text_but_not_numbers_or_dates(tmp_path):
    from portfolio.runfolder import neutralise_formula

    frame = pd.DataFrame({
        "name": ["=cmd|' /C calc'!A0", "+1+cmd", "-2+3", "@SUM(A1)", "\tx", "-inf", "普通", "-3", "a=b"],
        "month": ["2025-12"] * 9,
        "delay": ["-0.50", "1.00", "-3", "", "0.25", "2", "3", "4", "5"],
        "value": [-3, -1.5, 0, 1, 2, 3, 4, 5, 6],
    })
    write_csv(frame, tmp_path / "out.csv")
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    back = pd.DataFrame(rows[1:], columns=rows[0])
    assert list(back["name"]) == ["'=cmd|' /C calc'!A0", "'+1+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "'-inf", "普通",
                                  "-3", "a=b"]
    assert neutralise_formula("\r=1+1") == "'\r=1+1"  # (pandas writes a CR unquoted: not round-tripped here)
    assert list(back["month"]) == ["2025-12"] * 9
    assert list(back["delay"]) == list(frame["delay"])
    assert list(back["value"]) == ["-3.0", "-1.5", "0.0", "1.0", "2.0", "3.0", "4.0", "5.0", "6.0"]


def test_a_formula_in_a_project_name_is_neutralised_in_the_simulation_output(write_data, mini_files, tmp_path):
    formula = "=HYPERLINK(\"http://x.invalid\",\"x\")"
    folder = write_data(edited(mini_files, [("projects.csv", "引汉济渭二期", f'"{formula.replace(chr(34), 2 * chr(34))}"')]))
    out = tmp_path / "run"
    result = CliRunner().invoke(cli.main, ["simulate", str(folder), "--out", str(out), "--iterations", "20",
                                           "--engine", "simpy"])
    assert result.exit_code == 0, result.output
    names = pd.read_csv(out / "simulation.csv", dtype=str).set_index("project_id")["name_zh"]
    assert names["HJW"] == "'" + formula


# -- finishes beyond the simulation's horizon --------------------------------------------------------

def test_a_finish_beyond_the_horizon_is_not_shown_as_a_date():
    from simulate import run
    from simulate.runner import summary_text
    from portfolio_builders import activity, make_portfolio, make_settings, project

    portfolio = make_portfolio([project("LONG"), project("Q")],
                               [activity("LONG.A", "LONG", 400), activity("LONG.B", "LONG", 400, preds="LONG.A"),
                                activity("Q.A", "Q", 12)])
    text = summary_text(run(portfolio, make_settings(status="2021-01"), iterations=20, seed=1, engine="simpy"))
    lines = text.splitlines()
    assert lines[1].split()[3:6] == ["beyond", "beyond", "beyond"]
    assert lines[2].split()[3:6] == ["2021-12", "2021-12", "2021-12"]
    assert "2070-12" not in "\n".join(lines[:4])
    assert lines[4].startswith('warning: "beyond" is a finish in the last month of the 600-month horizon (2070-12)')


def test_no_horizon_warning_when_every_finish_is_inside_it():
    from simulate import run
    from simulate.runner import summary_text
    from portfolio_builders import activity, make_portfolio, make_settings, project

    text = summary_text(run(make_portfolio([project("Q")], [activity("Q.A", "Q", 12)]), make_settings(),
                            iterations=20, seed=1, engine="simpy"))
    assert "beyond" not in text and "warning" not in text


# -- bundled data survive a GBK round trip -----------------------------------------------------------

@pytest.mark.parametrize("path", sorted((ROOT / "data").glob("*.csv")), ids=lambda p: p.name)
def test_every_bundled_data_file_encodes_to_gbk(path):
    text = path.read_text(encoding="utf-8")
    assert text.encode("gbk").decode("gbk") == text


def test_bundled_data_saved_as_gbk_loads_to_the_same_portfolio(tmp_path):
    """The folder as Excel on Chinese Windows would save it (GBK) reads to the same projects, activities and links."""
    from portfolio.load import load_portfolio

    for path in (ROOT / "data").iterdir():
        if path.suffix == ".csv":
            (tmp_path / path.name).write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    utf8, gbk = load_portfolio(ROOT / "data"), load_portfolio(tmp_path)
    assert gbk.projects == utf8.projects and gbk.activities == utf8.activities
    assert gbk.risks == utf8.risks and gbk.funding == utf8.funding
    assert [sha for _, sha in gbk.inputs] != [sha for _, sha in utf8.inputs]  # the bytes did change


def test_header_names_typed_in_full_width_or_with_a_zero_width_space_are_found(write_data, mini_files):
    header = mini_files["activities.csv"].split("\n", 1)[0]
    files = edited(mini_files, [("activities.csv", header, header.replace("cost", "ｃｏｓｔ").replace("name", "name\u200b"))])
    portfolio = load_portfolio(str(write_data(files)))
    assert portfolio.activity("XIY.T2").cost == 300 and portfolio.activity("XIY.T2").name == "航站楼施工"
