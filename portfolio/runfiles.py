"""The data files of a run folder and their columns: what a reader of a run folder may rely on.

Part of the run-folder format (with ``portfolio.runfolder``), so that every layer can name the files and their
columns; ``report.rundata`` reads and checks run folders by these specs.
"""
from __future__ import annotations

PORTFOLIO = "PORTFOLIO"

# file -> (columns, key columns, month columns, number columns, optional-number columns)
SPECS: dict[str, dict] = {
    "schedule.csv": dict(
        columns=("activity_id", "project_id", "name", "start", "finish", "duration", "cost", "funding_source"),
        key=("activity_id",),
        months=("start", "finish"),
        numbers=("duration", "cost"),
    ),
    "projects.csv": dict(
        columns=("project_id", "name_zh", "name_en", "category", "lead_agency", "priority", "planned_finish",
                 "deadline", "on_time", "lateness_months"),
        key=("project_id",),
        months=("planned_finish", "deadline"),
        numbers=("priority", "lateness_months"),
    ),
    "funding.csv": dict(
        columns=("year", "source", "spend", "cap"),
        key=("year", "source"),
        months=(),
        numbers=("year", "spend"),
        optional=("cap",),
    ),
    "simulation.csv": dict(
        columns=("project_id", "name_zh", "deadline", "p_on_time", "finish_p50", "finish_p80", "finish_p90",
                 "mean_delay_months"),
        key=("project_id",),
        months=("deadline", "finish_p50", "finish_p80", "finish_p90"),
        numbers=("p_on_time", "mean_delay_months"),
    ),
    "criticality.csv": dict(
        columns=("activity_id", "project_id", "criticality", "sensitivity"),
        key=("activity_id",),
        months=(),
        numbers=("criticality",),
        optional=("sensitivity",),
    ),
    "risks.csv": dict(
        columns=("risk_id", "name", "probability", "occurred", "mean_delay_if_occurs", "mean_delay_if_not",
                 "contribution_months"),
        key=("risk_id",),
        months=(),
        numbers=("probability", "occurred"),
        optional=("mean_delay_if_occurs", "mean_delay_if_not", "contribution_months"),
    ),
    "distribution.csv": dict(
        columns=("project_id", "month", "p_finished"),
        key=("project_id", "month"),
        months=("month",),
        numbers=("p_finished",),
    ),
    "iterations.csv": dict(
        columns=("project_id", "iterations", "on_time_bits"),
        key=("project_id",),
        months=(),
        numbers=("iterations",),
    ),
}
PLAN_FILES = ("schedule.csv", "projects.csv", "funding.csv")  # the plan's tables (optimize/output.py)
MC_FILES = ("simulation.csv", "criticality.csv", "risks.csv", "distribution.csv")  # the simulation's tables
ITERATIONS_FILE = "iterations.csv"  # each iteration's on-time bits, for paired comparisons
SIMULATION_FILES = MC_FILES + (ITERATIONS_FILE,)  # everything simulate/runner.py writes
