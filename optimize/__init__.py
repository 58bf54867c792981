"""The funded schedule: a CP-SAT model of the portfolio under funding caps, resources and deadlines.

    plan = optimize.solve(portfolio, settings)       # raises optimize.Infeasible with the reasons
    optimize.check_plan(portfolio, settings, plan)   # [] for a valid plan
    schedule_frame(portfolio, plan), projects_frame(portfolio, plan), funding_frame(plan)

See docs/optimizer.md for the model, the objectives and the infeasibility explanations.
"""
from .checker import check_plan, check_starts
from .explain import Infeasible, NoPlanFound
from .plan import Plan, StageReport, funding_frame, objective_values, projects_frame, schedule_frame
from .solve import OBJECTIVES, PlanCheckError, solve
from .status import SolveStatus

__all__ = [
    "OBJECTIVES",
    "Infeasible",
    "NoPlanFound",
    "Plan",
    "PlanCheckError",
    "SolveStatus",
    "StageReport",
    "check_plan",
    "check_starts",
    "funding_frame",
    "objective_values",
    "projects_frame",
    "schedule_frame",
    "solve",
]
