"""runs.commands: each command's library function, called without the CLI, gives what the command prints and
raises the errors it exits with (the CLI only prints and maps exit codes)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from portfolio.errors import InputError
from runs import commands

ROOT = Path(__file__).resolve().parent.parent
BASELINE_RUN = ROOT / "tests" / "expected" / "baseline"


def test_validate_returns_the_summary_the_command_prints(write_data, mini_files):
    folder = str(write_data(mini_files))
    text = commands.validate(folder)
    assert text.startswith("OK: ")
    assert CliRunner().invoke(cli.main, ["validate", folder]).output == text + "\n"


def test_schedule_writes_the_plan_and_returns_the_lines_printed(write_data, mini_files, tmp_path):
    folder = str(write_data(mini_files))
    out = tmp_path / "plan"
    done = commands.schedule(folder, out, time_limit=30, workers=1)
    assert (out / "schedule.csv").is_file() and (out / "manifest.json").is_file()
    lines = done.summary().splitlines()
    assert lines[0] == f"scenario: {done.settings.name} ({len(done.portfolio.activities)} activities, " \
                       f"{len(done.portfolio.projects)} projects)"
    assert any(line.startswith("status: ") for line in lines)


def test_bad_options_raise_with_the_option_named_and_nothing_written(tmp_path):
    readme = ROOT / "README.md"
    with pytest.raises(commands.BadOption, match=r"^--three-point: expected two field names"):
        commands.import_file(readme, tmp_path / "d", three_point="only-one")
    with pytest.raises(commands.BadOption, match=r"^--reference-class: unknown reference class 'tram'"):
        commands.import_file(readme, tmp_path / "d", reference_class="tram")
    with pytest.raises(commands.BadOption, match=r"^--data: "):
        commands.export(BASELINE_RUN, "xer", tmp_path / "a.xer")
    with pytest.raises(commands.BadOption, match=r"^--encoding: unknown encoding 'klingon'"):
        commands.export(BASELINE_RUN, "xer", tmp_path / "a.xer", data_target=ROOT / "scenarios" / "baseline.toml",
                        encoding="klingon")
    with pytest.raises(commands.BadOption, match=r"^--threshold: "):
        commands.quality(ROOT / "data", thresholds=("high_float",))
    with pytest.raises(InputError, match=r"^--as-of:0:0: "):
        commands.backtest(ROOT / "scenarios" / "backtest-2021.toml", tmp_path / "b", as_of="2021-13")
    with pytest.raises(commands.BadOption, match=r"^--asap cannot be combined with several origins"):
        commands.backtest(ROOT / "scenarios" / "backtest-multi.toml", tmp_path / "b", asap=True)
    for origins, message in [("0001-01", "expected origins from 1900-01 to 2199-12, got 0001-01"),
                             ("2019-01,2300-01", "expected origins from 1900-01 to 2199-12, got 2300-01"),
                             ("1900-01:2199-12:1", "3600 origins; at most 50 (the limit of this tool)"),
                             (",".join(f"{y}-01" for y in range(1950, 2001)), "51 origins; at most 50")]:
        with pytest.raises(InputError, match=rf"^--origins:0:0: {re.escape(message)}"):  # not a hang, nor a traceback
            commands.backtest(ROOT / "scenarios" / "backtest-2021.toml", tmp_path / "b", origins=origins)
    assert list(tmp_path.iterdir()) == []
    assert commands.BadOption("x").exit_code == 2
