"""Excel workbooks: import as a data folder (problems named by sheet and cell), the template, a run as a workbook."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from openpyxl import Workbook, load_workbook

from interop.xlsx import csv_bytes

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("projects", "activities", "funding", "risks", "resources", "deadlines", "milestones")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=ROOT)


def _number(text: str, header: bool):
    """Numbers as Excel holds them (so the workbook is not a CSV in disguise)."""
    if header:
        return text
    try:
        return float(text) if text.strip() == text and "e" not in text.lower() else text
    except ValueError:
        return text


def bundled_workbook(path: Path, edit=None) -> Path:
    book = Workbook()
    book.remove(book.active)
    for name in TABLES:
        sheet = book.create_sheet(name)
        with open(ROOT / "data" / f"{name}.csv", encoding="utf-8", newline="") as handle:
            for k, row in enumerate(csv.reader(handle)):
                sheet.append([_number(v, k == 0) for v in row])
    if edit:
        edit(book)
    book.save(path)
    return path


def test_bundled_data_as_a_workbook_plans_the_same(tmp_path):
    book = bundled_workbook(tmp_path / "data.xlsx")
    done = _cli("import", str(book), "--out", str(tmp_path / "from_book"))
    assert done.returncode == 0, done.stderr
    for data, run in ((ROOT / "data", "a"), (tmp_path / "from_book", "b")):
        scenario = tmp_path / f"{run}.toml"
        scenario.write_text(f'name = "x"\ndata = "{data.as_posix()}"\nstatus_date = "2021-01"\ndeadline = "2025-12"\n'
                            "[optimize]\ntime_limit_s = 2\n", encoding="utf-8")
        assert _cli("schedule", str(scenario), "--out", str(tmp_path / run), "--workers", "1").returncode == 0
    for name in ("schedule.csv", "projects.csv", "funding.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    # the optional milestones come back too (a run forecasts them into its folder)
    def rows(folder):
        with open(folder / "milestones.csv", encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle))
    assert len(rows(ROOT / "data")) > 1 and rows(tmp_path / "from_book") == rows(ROOT / "data")


def test_a_milestone_problem_names_its_sheet_and_cell(tmp_path):
    def spoil(book):
        book["milestones"]["E2"] = "halfway"  # event of the first milestone
    book = bundled_workbook(tmp_path / "bad.xlsx", spoil)
    done = _cli("import", str(book), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "bad.xlsx:milestones!E2: event" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_workbook_problems_name_sheet_and_cell(tmp_path):
    def spoil(book):
        book["activities"]["E3"] = "soon"  # most_likely of the second activity
        book["projects"]["D4"] = "space"  # category
    book = bundled_workbook(tmp_path / "bad.xlsx", spoil)
    done = _cli("import", str(book), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        'bad.xlsx:activities!E3: most_likely: expected a number > 0, got "soon"',
        'bad.xlsx:projects!D4: category: expected one of aviation, water, rail, metro, road, logistics, health, '
        'other, got "space"']
    assert not (tmp_path / "out").exists()


def test_row_numbers_survive_line_breaks_in_cells():
    data, rows = csv_bytes([["a", "b"], ["x\ny", "1"], ["z", "2"]])
    assert data.count(b"\n") == 4
    assert rows == {1: 1, 2: 2, 4: 3}


def test_template_has_every_column_with_a_comment(tmp_path):
    out = tmp_path / "template.xlsx"
    assert _cli("template", "--out", str(out)).returncode == 0
    book = load_workbook(out)
    assert book.sheetnames == ["README", *TABLES]
    header = [c.value for c in book["activities"][1]]
    assert header[:6] == ["activity_id", "project_id", "name", "optimistic", "most_likely", "pessimistic"]
    assert book["activities"]["E1"].comment.text.startswith("most_likely (required): months > 0")
    again = tmp_path / "again.xlsx"
    _cli("template", "--out", str(again))
    assert again.read_bytes() == out.read_bytes()
    done = _cli("import", str(out), "--out", str(tmp_path / "empty"))
    assert done.returncode == 2 and "template.xlsx:projects!1:1: no projects below the header" in done.stderr


def test_run_folder_as_a_workbook(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "schedule.csv").write_text("activity_id,start,duration\nA,2021-01,6\nB,2021-07,2.5\n", encoding="utf-8")
    out = tmp_path / "run.xlsx"
    done = _cli("export", str(run), "--format", "xlsx", "--out", str(out))
    assert done.returncode == 0, done.stderr
    sheet = load_workbook(out)["schedule"]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [["activity_id", "start", "duration"],
                                                                     ["A", "2021-01", 6], ["B", "2021-07", 2.5]]


def test_a_scenario_may_name_a_workbook(tmp_path):
    book = bundled_workbook(tmp_path / "data.xlsx")
    runs = {}
    for data, run in ((ROOT / "data", "folder"), (book, "book")):
        scenario = tmp_path / f"{run}.toml"
        scenario.write_text(f'name = "x"\ndata = "{data.as_posix()}"\nstatus_date = "2021-01"\ndeadline = "2025-12"\n'
                            "[optimize]\ntime_limit_s = 2\n", encoding="utf-8")
        done = _cli("schedule", str(scenario), "--out", str(tmp_path / run), "--workers", "1")
        assert done.returncode == 0, done.stderr
        runs[run] = tmp_path / run
    for name in ("schedule.csv", "projects.csv", "funding.csv"):
        assert (runs["folder"] / name).read_bytes() == (runs["book"] / name).read_bytes()
    checked = _cli("validate", str(book))
    assert checked.returncode == 0 and checked.stdout.startswith("OK: 20 projects, 125 activities")


def test_a_scenario_names_the_cell_of_a_workbook_problem(tmp_path):
    def spoil(book):
        book["activities"]["E3"] = "soon"
    book = bundled_workbook(tmp_path / "bad.xlsx", spoil)
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "x"\ndata = "bad.xlsx"\n', encoding="utf-8")
    done = _cli("validate", str(scenario))
    assert done.returncode == 2
    assert done.stderr.strip() == 'bad.xlsx:activities!E3: most_likely: expected a number > 0, got "soon"'
