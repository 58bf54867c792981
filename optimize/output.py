"""Writing a plan into a run folder and describing it in a few lines (for the command line)."""
from __future__ import annotations

from pathlib import Path

from portfolio.model import Portfolio
from portfolio.runfiles import PLAN_FILES  # noqa: F401 (the plan's file names, used from here too)
from scenarios.settings import Settings

from .plan import OBJECTIVE_LABELS, Plan, funding_frame, projects_frame, schedule_frame


def write_plan(portfolio: Portfolio, settings: Settings, plan: Plan, folder: str | Path) -> None:
    """schedule.csv, projects.csv, funding.csv and the ``optimizer`` section of manifest.json into ``folder``."""
    from portfolio.runfolder import write_csv, write_manifest
    from scenarios.rules import scenario_rules

    folder = Path(folder)
    write_csv(schedule_frame(portfolio, plan), folder / "schedule.csv")
    write_csv(projects_frame(portfolio, plan), folder / "projects.csv")
    write_csv(funding_frame(plan), folder / "funding.csv")
    write_manifest(folder, settings, portfolio, scenario_rules(settings), optimizer=plan.optimizer_summary())


def _num(x: float) -> str:
    return f"{x:.0f}" if abs(x - round(x)) < 1e-9 else f"{x:.4g}"


def summary_lines(portfolio, plan: Plan) -> list[str]:
    on_time = int((plan.lateness() == 0).sum())
    lines = [
        f"status: {plan.status}",
        f"objective: {plan.objective_name} = {_num(plan.objective)} ({OBJECTIVE_LABELS[plan.objective_name]})",
        f"best bound: {_num(plan.best_bound)}",
        f"gap: {100 * plan.gap:.2f}%",
        f"solve time: {plan.seconds:.1f} s",
        f"deterministic time: {plan.deterministic_time:.2f} of {_num(plan.deterministic_budget or 0)}"
        + ("" if plan.reproducible else " (NOT REPRODUCIBLE: the wall-clock safety net stopped the search)"),
    ]
    if len(plan.stages) > 1:
        parts = [
            f"{s.name} = {_num(s.value)} (bound {_num(s.bound)}{', optimal' if s.optimal else ''})" for s in plan.stages
        ]
        lines.append("stages (lexicographic): " + "; ".join(parts))
    lines.append(f"projects on time (planned): {on_time} of {len(portfolio.projects)}")
    late = [(pid, int(x)) for pid, x in zip(plan.network.project_ids, plan.lateness()) if x > 0]
    if late:
        lines.append("late: " + ", ".join(f"{pid} +{m} mo" for pid, m in late))
    lines.extend(f"note: {n}" for n in plan.notes)
    return lines
