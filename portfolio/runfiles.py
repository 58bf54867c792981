"""The data files of a run folder, their columns and what each column may hold: what a reader of a run folder may
rely on.

Part of the run-folder format (with ``portfolio.runfolder``), so that every layer can name the files and their
columns; ``report.rundata`` reads and checks run folders by these specs, each cell by its column's kind
(``read_value``), so that a hand-edited folder (``p_on_time = nan``, a probability of 7) is refused, not rendered.
"""
from __future__ import annotations

from dataclasses import dataclass

from .load import FIRST_YEAR, LAST_YEAR, MAX_MONTHS, parse_number, quoted
from .months import format_month, parse_month

PORTFOLIO = "PORTFOLIO"


@dataclass(frozen=True)
class Kind:
    """What the cells of a numeric column hold: a finite number within ``low`` .. ``high``, whole or not."""

    what: str  # as the message says it, in the words of the data's loader: "a number from 0 to 1"
    low: float | None = None
    high: float | None = None
    whole: bool = False


# The data's months, and the simulation's horizon (MAX_MONTHS, simulate.model.HORIZON) after the last status date.
MONTHS = (FIRST_YEAR * 12, (LAST_YEAR + 1) * 12 - 1 + MAX_MONTHS)
MONTH = "month"  # YYYY-MM within MONTHS; read as an absolute month
KINDS: dict[str, Kind] = {
    "probability": Kind("a number from 0 to 1", 0, 1),
    "amount": Kind("a number >= 0", 0),
    "count": Kind("a whole number >= 0", 0, whole=True),
    "year": Kind(f"a year from {FIRST_YEAR} to {LAST_YEAR}", FIRST_YEAR, LAST_YEAR, whole=True),
    "correlation": Kind("a number from -1 to 1", -1, 1),
    "number": Kind("a finite number"),
}

# file -> columns, key columns, kinds (column -> MONTH or a KINDS key; the other columns are text) and the
# optional columns (a blank cell is allowed: a month or number that does not exist, e.g. no sensitivity).
SPECS: dict[str, dict] = {
    "schedule.csv": dict(
        columns=("activity_id", "project_id", "name", "start", "finish", "duration", "cost", "funding_source"),
        key=("activity_id",),
        kinds=dict(start=MONTH, finish=MONTH, duration="count", cost="amount"),
    ),
    "projects.csv": dict(
        columns=("project_id", "name_zh", "name_en", "category", "lead_agency", "priority", "planned_finish",
                 "deadline", "on_time", "lateness_months"),
        key=("project_id",),
        kinds=dict(priority="amount", planned_finish=MONTH, deadline=MONTH, lateness_months="count"),
        optional=("planned_finish",),  # a project without activities
    ),
    "funding.csv": dict(
        columns=("year", "source", "spend", "cap"),
        key=("year", "source"),
        kinds=dict(year="year", spend="amount", cap="amount"),
        optional=("cap",),
    ),
    "simulation.csv": dict(
        columns=("project_id", "name_zh", "deadline", "p_on_time", "finish_p50", "finish_p80", "finish_p90",
                 "mean_delay_months"),
        key=("project_id",),
        kinds=dict(deadline=MONTH, p_on_time="probability", finish_p50=MONTH, finish_p80=MONTH, finish_p90=MONTH,
                   mean_delay_months="amount"),
    ),
    "criticality.csv": dict(
        columns=("activity_id", "project_id", "criticality", "sensitivity"),
        key=("activity_id",),
        kinds=dict(criticality="probability", sensitivity="correlation"),
        optional=("sensitivity",),
    ),
    "risks.csv": dict(
        columns=("risk_id", "name", "probability", "occurred", "mean_delay_if_occurs", "mean_delay_if_not",
                 "contribution_months"),
        key=("risk_id",),
        kinds=dict(probability="probability", occurred="probability", mean_delay_if_occurs="amount",
                   mean_delay_if_not="amount", contribution_months="number"),
        optional=("mean_delay_if_occurs", "mean_delay_if_not", "contribution_months"),
    ),
    "distribution.csv": dict(
        columns=("project_id", "month", "p_finished"),
        key=("project_id", "month"),
        kinds=dict(month=MONTH, p_finished="probability"),
    ),
    "iterations.csv": dict(
        columns=("project_id", "iterations", "on_time_bits"),
        key=("project_id",),
        kinds=dict(iterations="count"),
    ),
}
PLAN_FILES = ("schedule.csv", "projects.csv", "funding.csv")  # the plan's tables (optimize/output.py)
MC_FILES = ("simulation.csv", "criticality.csv", "risks.csv", "distribution.csv")  # the simulation's tables
ITERATIONS_FILE = "iterations.csv"  # each iteration's on-time bits, for paired comparisons
SIMULATION_FILES = MC_FILES + (ITERATIONS_FILE,)  # everything simulate/runner.py writes


def read_value(kind: str, text: str) -> float | int:
    """One non-blank cell of a column of ``kind``: an absolute month (MONTH) or a float; ValueError saying what
    was expected."""
    if kind == MONTH:
        month = parse_month(text)
        if not MONTHS[0] <= month <= MONTHS[1]:
            raise ValueError(f"expected a month from {format_month(MONTHS[0])} to {format_month(MONTHS[1])}, "
                             f"got {quoted(text)}")
        return month
    rule = KINDS[kind]
    value = parse_number(text)  # the data files' number rule: finite, no "_"
    if (value is None or (rule.low is not None and value < rule.low)
            or (rule.high is not None and value > rule.high) or (rule.whole and not value.is_integer())):
        raise ValueError(f"expected {rule.what}, got {quoted(text)}")
    return value


def past_horizon_note(simulation: dict) -> str:
    """The warning for iterations in which a project did not finish within the horizon, from the manifest's
    ``simulation`` settings ("" when none did): the terminal summary and the report say the same."""
    past = int(simulation.get("iterations_past_horizon") or 0)
    if not past:
        return ""
    return (f"{past} of {simulation.get('iterations')} iterations ran past the {simulation.get('horizon_months')}-month "
            "simulation horizon with a project unfinished; such a project counts as late whatever its deadline, and "
            "its delay counts only up to the horizon")
