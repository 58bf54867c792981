"""Excel workbooks: a data folder from a workbook (one sheet per table), the empty template, a run's tables as a workbook.

Read and written with openpyxl (MIT). A workbook's sheets are named like the CSV files
(``projects``, ``activities``, ``funding``, ``risks``, ``resources``, ``deadlines``, ``milestones``; ``.csv`` may be kept and
case does not matter); other sheets (the template's ``README``) are ignored. Row n of a sheet
becomes the CSV row that the loader reports as line n, so every problem is given back as
``book.xlsx:Sheet!B7: message``. Files are written with fixed zip timestamps and document dates,
so the same tables give the same bytes.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from portfolio import milestones
from portfolio.errors import InputError, InputProblem
from portfolio.load import FILES, REQUIRED_COLUMNS
from portfolio.workbook import tables_workbook

from .schedule import ImportProblem

MONTH_COLUMNS = {"deadline", "earliest_start", "actual_start", "actual_finish", "start", "finish", "planned_finish",
                 "known_since", "earliest_start_known_since", "actual"}
SHEETS = FILES + (milestones.FILE,)  # the loader's tables and the optional milestones (docs/data.md)
REQUIRED = {**REQUIRED_COLUMNS, milestones.FILE: milestones.REQUIRED}

COLUMNS: dict[str, dict[str, str]] = {
    "projects.csv": {
        "project_id": "unique id, ASCII without spaces, e.g. XIY-P3",
        "name_zh": "the project's name (Chinese)",
        "name_en": "the project's English name (optional)",
        "category": "aviation, water, rail, metro, road, logistics, health or other",
        "lead_agency": "who leads it (optional)",
        "priority": "a positive weight: how much its lateness counts",
        "deadline": "YYYY-MM; empty: the scenario's deadline",
        "budget": "亿元",
        "source": "where the figures come from, or 'estimate'",
    },
    "activities.csv": {
        "activity_id": "unique id without spaces, ';', ':' or ',', e.g. XIY-P3.T5",
        "project_id": "a project_id of the projects sheet",
        "name": "the phase's name",
        "optimistic": "months > 0; may be empty when source names a reference class",
        "most_likely": "months > 0, at least optimistic",
        "pessimistic": "months, at least most_likely; may be empty with a reference class",
        "predecessors": "';'-separated ID, ID:SS, ID:FF+2 or ID:FS-1 (type FS, SS, FF or SF; lag in whole months)",
        "cost": "亿元, spent evenly over the work",
        "funding_source": "e.g. central, provincial, local, bond, loan, enterprise",
        "earliest_start": "YYYY-MM (optional)",
        "actual_start": "YYYY-MM (optional)",
        "actual_finish": "YYYY-MM (optional; needs actual_start)",
        "resources": "';'-separated RESOURCE_ID or RESOURCE_ID:units (optional)",
        "source": "where the figures come from; 'reference class: CLASS/KIND' fills optimistic and pessimistic",
        "known_since": "YYYY-MM the row became known (optional; a backtest before it does not see the row)",
        "earliest_start_known_since": "YYYY-MM the earliest_start became known (optional)",
        "remaining_months": "months of work left at the data's as-of date, for a running activity (optional)",
        "percent_complete": "0 to below 100, for a running activity, instead of remaining_months (optional)",
    },
    "funding.csv": {
        "year": "a year such as 2024",
        "source": "a funding_source of the activities",
        "cap": "亿元 available that year",
        "note": "where the figure comes from (optional)",
    },
    "risks.csv": {
        "risk_id": "unique id, e.g. R1",
        "name": "what may happen",
        "probability": "0 to 1, per run",
        "optimistic": "months of delay",
        "most_likely": "months of delay",
        "pessimistic": "months of delay",
        "affects": "';'-separated activity ids or category:NAME",
        "source": "where the figures come from",
        "known_since": "YYYY-MM this version of the risk became known (optional; a risk_id may repeat as versions)",
    },
    "resources.csv": {
        "resource_id": "unique id, e.g. TBM",
        "name": "what it is",
        "capacity": "units available at once (> 0)",
        "source": "where the figure comes from",
    },
    "deadlines.csv": {
        "project_id": "a project_id of the projects sheet",
        "deadline": "YYYY-MM: the target as known from known_since on",
        "known_since": "YYYY-MM the target became known (empty: known from the start)",
        "source": "where the target was stated",
    },
    "milestones.csv": {
        "milestone_id": "its id; may repeat with another known_since (the target as known from then)",
        "project_id": "a project_id of the projects sheet (the activity's project)",
        "name": "what happens, e.g. tunnel breakthrough",
        "activity_id": "the activity whose start or finish it is",
        "event": "start or finish",
        "deadline": "YYYY-MM: on time when the event happens in or before that month",
        "known_since": "YYYY-MM from which this deadline was known (empty: always)",
        "actual": "YYYY-MM it happened, when a source says so (optional)",
        "source": "where the deadline and the actual come from",
    },
}


def _sheet_name(table: str) -> str:
    return table.removesuffix(".csv")


def column_letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column)


def _cell_text(value, header: str) -> str:
    """A cell as the CSV text the loader reads: whole numbers without '.0', dates as YYYY-MM in month columns."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m") if header in MONTH_COLUMNS else value.strftime("%Y-%m-%d")
    return str(value)


def read_workbook(path) -> dict[str, list[list[str]]]:
    """CSV file name -> rows of cell texts (row k of the list is sheet row k + 1), for the sheets of the data schema."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ImportProblem(f"{Path(path).name}: not an .xlsx workbook ({type(exc).__name__})") from exc
    tables = {}
    by_name = {name.lower().removesuffix(".csv"): name for name in book.sheetnames}
    try:
        for table in SHEETS:
            sheet = by_name.get(_sheet_name(table))
            if sheet is not None:
                tables[table] = _sheet_texts(book[sheet])
    except (ValueError, ArithmeticError, IndexError, KeyError, SyntaxError) as exc:  # a damaged sheet (ParseError
        # is a SyntaxError): openpyxl reads cells lazily, so the faults of their XML surface only here
        raise ImportProblem(f"{Path(path).name}: cannot read the sheet {sheet!r} ({type(exc).__name__}: {exc})") from None
    finally:
        book.close()
    return tables


def _sheet_texts(sheet) -> list[list[str]]:
    """A sheet's rows of cell texts, up to one column past its header (a stray far cell must not make every row
    16,384 cells wide); empty rows inside the table are kept as [] so that row numbers stay the sheet's."""
    first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
    header = [str(x).strip() if x is not None else "" for x in first]
    width = _width(header) + 1  # one more, so that a cell past the header is still reported
    rows: list[list[str]] = []
    empty = 0
    for row in sheet.iter_rows(values_only=True, max_col=width):
        texts = [_cell_text(v, header[k] if k < len(header) else "") for k, v in enumerate(row)]
        texts = texts[:_width(texts)]
        if not texts:
            empty += 1
            continue
        rows.extend([] for _ in range(empty))
        empty = 0
        rows.append(texts)
    return rows


def _width(row: list[str]) -> int:
    width = len(row)
    while width and not row[width - 1]:
        width -= 1
    return width


def csv_bytes(rows: list[list[str]]) -> tuple[bytes, dict[int, int]]:
    """UTF-8 CSV of the rows, and CSV line -> sheet row (a cell with a line break takes several lines)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    line_to_row, line = {}, 1
    for number, row in enumerate(rows, start=1):
        line_to_row[line] = number
        before = buffer.tell()
        writer.writerow(row)
        line += buffer.getvalue()[before:].count("\n")
    return buffer.getvalue().encode("utf-8"), line_to_row


class CellProblem(InputProblem):
    """A problem at a workbook cell: shown as ``book.xlsx:Sheet!B7: message`` (file holds ``book.xlsx:Sheet!B7``)."""

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


def workbook_problem(book: str, table: str, line_to_row: dict[int, int], problem: InputProblem) -> CellProblem:
    """A loader problem in ``table`` given back in the workbook's terms (a whole row reads ``Sheet!7:7``)."""
    sheet = _sheet_name(table)
    if not problem.line:
        return CellProblem(f"{book}:{sheet}", 0, 0, problem.message)
    row = line_to_row.get(problem.line, problem.line)
    cell = f"{column_letter(problem.column)}{row}" if problem.column else f"{row}:{row}"
    return CellProblem(f"{book}:{sheet}!{cell}", problem.line, problem.column, problem.message)


def write_data_folder_from_workbook(path, out):
    """The workbook's tables as a data folder at ``out``; the loader's problems name sheet and cell. Returns the Portfolio."""
    from portfolio.load import load_portfolio
    from portfolio.runfolder import atomic_folder

    book = Path(path).name
    tables = read_workbook(path)
    missing = [t for t in ("projects.csv", "activities.csv") if t not in tables]
    if missing:
        raise ImportProblem(f"{book}: no sheet named {_sheet_name(missing[0])!r} (expected one sheet per table: "
                            f"{', '.join(_sheet_name(t) for t in SHEETS)})")
    with atomic_folder(out) as folder:
        lines = {}
        for table, rows in tables.items():
            data, lines[table] = csv_bytes(rows)
            (Path(folder) / table).write_bytes(data)
        try:
            portfolio = load_portfolio(folder)
            milestones.load_milestones(folder, portfolio)  # checked here too: the folder must load as it is
        except InputError as exc:
            raise InputError([_in_book(book, folder, lines, p) for p in exc.problems]) from None
        return portfolio


def load_workbook_portfolio(path):
    """The Portfolio of a workbook (a scenario's ``data`` may name one); problems name sheet and cell."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        try:
            return write_data_folder_from_workbook(path, Path(tmp) / "data")
        except ImportProblem as exc:
            raise InputError(InputProblem(str(path), 0, 0, str(exc).removeprefix(f"{Path(path).name}: "))) from None


def load_workbook_milestones(path, portfolio):
    """The milestones of a workbook's optional ``milestones`` sheet, checked against ``portfolio``; () without it."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        try:
            write_data_folder_from_workbook(path, Path(tmp) / "data")
        except ImportProblem as exc:
            raise InputError(InputProblem(str(path), 0, 0, str(exc).removeprefix(f"{Path(path).name}: "))) from None
        return milestones.load_milestones(Path(tmp) / "data", portfolio)


def _in_book(book: str, folder, lines, problem: InputProblem) -> InputProblem:
    table = Path(problem.file).name
    return workbook_problem(book, table, lines.get(table, {}), problem)


def template_workbook():
    """An empty workbook: one sheet per table, the header row in bold with each column explained in a comment."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    book = Workbook()
    readme = book.active
    readme.title = "README"
    lines = ["One sheet per table of the data folder (docs/design.md, 'Data files'); the header of each column has a "
             "comment that explains it.",
             "Required columns: " + "; ".join(f"{_sheet_name(t)}: {', '.join(REQUIRED[t])}" for t in SHEETS),
             "Months are YYYY-MM; money is 亿元 (10^8 CNY); durations are months.",
             "Use it with: portfolio import book.xlsx --out DATA_DIR"]
    for row, text in enumerate(lines, start=1):
        readme.cell(row=row, column=1, value=text)
    for table in SHEETS:
        sheet = book.create_sheet(_sheet_name(table))
        for column, (name, text) in enumerate(COLUMNS[table].items(), start=1):
            cell = sheet.cell(row=1, column=column, value=name)
            cell.font = Font(bold=True)
            required = "required" if name in REQUIRED[table] else "optional column"
            cell.comment = Comment(f"{name} ({required}): {text}", "portfolio")
            sheet.column_dimensions[column_letter(column)].width = max(12, len(name) + 4)
        sheet.freeze_panes = "A2"
    return book


def run_workbook(run_dir):
    """The CSV tables of a run folder as one workbook, one sheet per file (numbers as numbers)."""
    files = sorted(p for p in Path(run_dir).glob("*.csv") if p.is_file())
    if not files:
        raise ImportProblem(f"{run_dir}: no CSV tables (expected a run folder)")
    from openpyxl.utils.exceptions import IllegalCharacterError

    try:
        return tables_workbook(files)
    except (ValueError, OSError, IllegalCharacterError) as exc:  # an edited table: bytes that are not UTF-8, characters a workbook cannot hold
        raise ImportProblem(f"{run_dir}: cannot put its tables in a workbook ({type(exc).__name__}: {str(exc)!r:.200})") from None
