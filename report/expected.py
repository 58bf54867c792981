"""Expected outputs of the bundled scenarios, which the test suite checks every run against.

Refresh them on purpose, after a change that is meant to move the figures:

    python -m report.expected            # every scenarios/*.toml into tests/expected/<name>/
    python -m report.expected baseline   # one scenario

Each folder holds the plan and Monte Carlo files of a small run (``ITERATIONS``
iterations, the scenario's seed) and its manifest; no report. The optimizer
gets ``TIME_LIMIT`` seconds, enough to prove every bundled plan optimal, so the
plan does not depend on the speed of the machine.
"""
from __future__ import annotations

import sys
from pathlib import Path

import optimize
import simulate
from optimize.output import write_plan
from scenarios.load import load_target

from .pipeline import planned_starts
from .runfolder import atomic_folder

ITERATIONS = 256
TIME_LIMIT = 180.0
ROOT = Path(__file__).resolve().parent.parent


def bundled_scenarios() -> list[Path]:
    """Every scenario file except sweeps (a sweep's variants are runs of the scenario it scales)."""
    return sorted(p for p in (ROOT / "scenarios").glob("*.toml") if "[sweep" not in p.read_text(encoding="utf-8"))


def write_expected(scenario: Path, out: Path) -> None:
    """The plan and the Monte Carlo files of ``scenario`` into ``out`` (written whole)."""
    portfolio, settings = load_target(scenario)
    plan = optimize.solve(portfolio, settings, time_limit=TIME_LIMIT)
    if plan.status != "optimal":
        raise RuntimeError(f"{scenario.name}: the plan is {plan.status}, not proven optimal in {TIME_LIMIT:.0f} s; "
                           "an expected output must not depend on the machine's speed")
    with atomic_folder(out) as folder:
        write_plan(portfolio, settings, plan, folder)
        result = simulate.run(portfolio, settings, plan_starts=planned_starts(plan), iterations=ITERATIONS)
        simulate.write_outputs(result, folder)


def main(names: list[str]) -> None:
    for scenario in bundled_scenarios():
        if names and scenario.stem not in names:
            continue
        write_expected(scenario, ROOT / "tests" / "expected" / scenario.stem)
        print(f"wrote tests/expected/{scenario.stem}")


if __name__ == "__main__":
    main(sys.argv[1:])
