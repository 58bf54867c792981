"""`portfolio validate DIR` through click's CliRunner: clear problem lines and exit 2, or a summary and exit 0."""
from __future__ import annotations

import os

from click.testing import CliRunner

import cli
from portfolio.months import parse_month
from portfolio.load import load_portfolio
from portfolio.summary import validation_summary
from scenarios.settings import Settings


def invoke(*args):
    return CliRunner().invoke(cli.main, list(args))


def test_bad_data_exits_2_with_every_problem_and_no_traceback(write_data, mini_files):
    files = dict(mini_files)
    files["activities.csv"] = files["activities.csv"].replace("HJW.T1:FF+2,50", "HJW.T1:FF+2,-50").replace("2021-06", "2021/06")
    files["projects.csv"] = files["projects.csv"].replace(",aviation,", ",airport,")
    folder = str(write_data(files))
    result = invoke("validate", folder)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.splitlines() == [
        f'{os.path.join(folder, "activities.csv")}:5:10: earliest_start: expected a month as YYYY-MM, got "2021/06"',
        f'{os.path.join(folder, "activities.csv")}:6:8: cost: expected a number >= 0, got "-50"',
        f'{os.path.join(folder, "projects.csv")}:2:4: category: expected one of aviation, water, rail, metro, road, '
        'logistics, health, other, got "airport"',
    ]


def test_missing_and_unreadable_files_exit_2(write_data):
    folder = str(write_data({"activities.csv": None, "risks.csv": b"\x80\x81\xff"}))
    result = invoke("validate", folder)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.splitlines() == [
        f"{os.path.join(folder, 'activities.csv')}:0:0: required file is missing",
        f"{os.path.join(folder, 'risks.csv')}:0:0: cannot read: not UTF-8 or GB18030 text",
    ]


def test_header_only_projects_file_exits_2(tmp_path):
    (tmp_path / "projects.csv").write_text("project_id,name_zh\n", encoding="utf-8")
    result = invoke("validate", str(tmp_path))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"{tmp_path / 'activities.csv'}:0:0: required file is missing" in result.output
    assert f'{tmp_path / "projects.csv"}:1:0: missing required column "category"' in result.output


def test_valid_folder_exits_0_with_a_summary(mini_data):
    result = invoke("validate", str(mini_data))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "OK: 2 projects, 5 activities, 4 links, 2 risks, 2 funding rows, 2 resources"
    assert any(line.startswith("XIY ") and "西安咸阳国际机场三期扩建工程" in line for line in lines)
    assert any(line.startswith("HJW ") and "引汉济渭二期" in line for line in lines)


def test_summary_finish_months_and_lateness(mini_data):
    portfolio = load_portfolio(mini_data)
    # XIY: T2 runs from 2020-11 for 36 months -> 2023-10.  HJW: T1 from 2021-06 for 30 months ends at t=35,
    # T2 (14 months, FF+2) ends at t=37 -> 2024-01, 7 months after a default deadline of 2023-06.
    text = validation_summary(portfolio, Settings("t", parse_month("2021-01"), parse_month("2023-06")))
    assert text.splitlines()[3:] == [
        "project  name                          finish   deadline  status",
        "XIY      西安咸阳国际机场三期扩建工程  2023-10  2025-12   on time",
        "HJW      引汉济渭二期                  2024-01  2023-06   late by 7 months",
        "",
        "1 of 2 projects on time.",
    ]
    text = validation_summary(portfolio, Settings("t", parse_month("2021-01"), parse_month("2023-12")))
    assert "2024-01  2023-12   late by 1 month\n" in text
