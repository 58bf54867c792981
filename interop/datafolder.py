"""Write an ``ImportedSchedule`` as a data folder (the CSV files of docs/design.md) plus a scenario.

The folder is built aside and renamed into place by ``portfolio.runfolder.atomic_folder``, so a
failed import leaves nothing half-written. ``scenario.toml`` in the folder plans from the
file's data date against its planned finish, so ``portfolio schedule DATADIR/scenario.toml``
works at once.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from portfolio import reference
from portfolio.runfolder import atomic_folder

from .schedule import MONEY_UNIT, ImportedActivity, ImportedSchedule, category_of_class

PROJECT_COLUMNS = ("project_id", "name_zh", "name_en", "category", "lead_agency", "priority", "deadline", "budget", "source")
ACTIVITY_COLUMNS = ("activity_id", "project_id", "name", "optimistic", "most_likely", "pessimistic", "predecessors",
                    "cost", "funding_source", "earliest_start", "actual_start", "actual_finish", "resources", "source")
FUNDING_COLUMNS = ("year", "source", "cap", "note")
RISK_COLUMNS = ("risk_id", "name", "probability", "optimistic", "most_likely", "pessimistic", "affects", "source")
RESOURCE_COLUMNS = ("resource_id", "name", "capacity", "source")
SCENARIO = "scenario.toml"


def _number(x: float) -> str:
    return f"{x:.10g}"


def _money(x: float) -> str:
    """Currency -> the schema's 亿 (10^8), to a precision of one currency unit."""
    return _number(round(x / MONEY_UNIT, 8))


def _csv(header, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _link_text(link) -> str:
    if link.kind == "FS" and link.lag == 0:
        return link.predecessor
    return f"{link.predecessor}:{link.kind}{link.lag:+d}" if link.lag else f"{link.predecessor}:{link.kind}"


def _activity_row(a: ImportedActivity, reference_class: str) -> list[str]:
    source = a.source
    if a.optimistic is None or a.pessimistic is None:
        name, _, kind = reference_class.partition("/")
        source = f"{source}; optimistic/pessimistic: {reference.tag(name, kind or reference.DEFAULT_KIND)}".lstrip("; ")
    return [a.activity_id, a.project_id, a.name,
            "" if a.optimistic is None or a.pessimistic is None else _number(a.optimistic),
            str(a.most_likely),
            "" if a.optimistic is None or a.pessimistic is None else _number(a.pessimistic),
            ";".join(_link_text(link) for link in a.links),
            _money(a.cost), a.funding_source, a.earliest_start, a.actual_start, a.actual_finish,
            ";".join(f"{rid}:{_number(units)}" for rid, units in a.resources), source]


def tables(schedule: ImportedSchedule, reference_class: str) -> dict[str, bytes]:
    """File name -> bytes of the data folder."""
    category = category_of_class(reference_class)
    budget = {p.project_id: 0.0 for p in schedule.projects}
    for a in schedule.activities:
        budget[a.project_id] += a.cost
    projects = [[p.project_id, p.name, p.name, category, "", "1", p.deadline, _money(budget[p.project_id]), p.source]
                for p in schedule.projects]
    activities = [_activity_row(a, reference_class) for a in schedule.activities]
    resources = [[r.resource_id, r.name, _number(r.capacity), f"{schedule.file} ({schedule.format})"]
                 for r in schedule.resources]
    return {
        "projects.csv": _csv(PROJECT_COLUMNS, projects),
        "activities.csv": _csv(ACTIVITY_COLUMNS, activities),
        "funding.csv": _csv(FUNDING_COLUMNS, []),
        "risks.csv": _csv(RISK_COLUMNS, []),
        "resources.csv": _csv(RESOURCE_COLUMNS, resources),
        SCENARIO: scenario_text(schedule).encode("utf-8"),
    }


def scenario_text(schedule: ImportedSchedule) -> str:
    """A scenario that plans the imported data from the file's data date."""
    return (f"# Written by `portfolio import` from {_toml_safe(str(schedule.file))} ({schedule.format}).\n"
            f'name = "{_toml_safe(Path(schedule.file).stem)}"\n'
            'data = "."\n'
            f'status_date = "{schedule.status_date}"\n'
            f'deadline = "{schedule.finish}"\n\n'
            "[optimize]\ntime_limit_s = 10\n\n"
            "[simulate]\niterations = 1000\nseed = 1\n")


def _toml_safe(text: str) -> str:
    """Text that fits in a TOML basic string and a comment: no backslash, quote or control character."""
    return "".join("-" if ch < " " or ch == "\x7f" else ch for ch in text.replace("\\", "-").replace('"', "'"))


def write_data_folder(schedule: ImportedSchedule, out, reference_class: str):
    """The data folder at ``out``, whole or not at all; it must load (InputError otherwise). Returns the Portfolio."""
    from portfolio.load import load_portfolio

    from portfolio.errors import InputError, InputProblem

    files = tables(schedule, reference_class)
    with atomic_folder(out) as folder:
        for name, data in files.items():
            (Path(folder) / name).write_bytes(data)
        try:
            return load_portfolio(folder)
        except InputError as exc:  # e.g. a dependency cycle in the file: name it where it would have been written
            note = f" (in the data imported from {schedule.file}; nothing was written)"
            raise InputError([InputProblem(str(Path(out) / Path(p.file).name), p.line, p.column, p.message + note)
                              for p in exc.problems]) from None
