"""The plan the simulator executes: planned starts read from a run folder's schedule.csv."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from portfolio.errors import InputError, InputProblem
from portfolio.model import Portfolio
from portfolio.months import parse_month


def read_plan_starts(folder, portfolio: Portfolio | None = None) -> dict[str, int]:
    """activity_id -> absolute planned start month, from ``folder/schedule.csv`` (columns activity_id, start).

    Activities of the portfolio that the plan does not list start as soon as they can (no planned start).
    """
    path = Path(folder) / "schedule.csv"
    if not Path(folder).is_dir():
        raise InputError(InputProblem(str(folder), 0, 0, "no such plan folder (expected a run folder with schedule.csv)"))
    if not path.is_file():
        raise InputError(InputProblem(str(path), 0, 0, "missing: the plan folder has no schedule.csv"))
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(InputProblem(str(path), 0, 0, "cannot read: not UTF-8 text")) from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or "activity_id" not in header or "start" not in header:
        raise InputError(InputProblem(str(path), 1, 0, "expected columns activity_id and start"))
    col_id, col_start = header.index("activity_id"), header.index("start")
    known = None if portfolio is None else {a.activity_id for a in portfolio.activities}
    starts, problems = {}, []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        aid = row[col_id].strip() if col_id < len(row) else ""
        value = row[col_start].strip() if col_start < len(row) else ""
        if known is not None and aid not in known:
            problems.append(InputProblem(str(path), line, col_id + 1, f"activity_id: unknown activity {aid!r}"))
            continue
        if aid in starts:
            problems.append(InputProblem(str(path), line, col_id + 1, f"activity_id: {aid} is listed twice"))
            continue
        try:
            starts[aid] = parse_month(value)
        except ValueError as exc:
            problems.append(InputProblem(str(path), line, col_start + 1, f"start: {exc}"))
    if problems:
        raise InputError(problems)
    return starts
