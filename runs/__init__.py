"""Workflows above the stages (load, optimize, simulate, report): the public Python API (docs/api.md).

    import runs
    scenario = runs.load("scenarios/baseline.toml")
    plan = runs.plan(scenario)
    sim = runs.simulate(scenario, plan)
"""
from optimize import Infeasible
from portfolio.errors import InputError

from .api import ASAP, Plan, Run, Scenario, Simulation, compare, load, plan, report, run, simulate

__all__ = ["ASAP", "Infeasible", "InputError", "Plan", "Run", "Scenario", "Simulation", "compare", "load", "plan",
           "report", "run", "simulate"]
