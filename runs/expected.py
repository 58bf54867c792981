"""Expected outputs of the bundled scenarios, which the test suite checks every run against.

Refresh them on purpose, after a change that is meant to move the figures:

    python -m runs.expected            # every scenarios/*.toml into tests/expected/<name>/
    python -m runs.expected baseline   # one scenario

Each folder holds the plan and Monte Carlo files of the scenario's own run (its
iterations and seed, exactly what ``portfolio run`` writes) and its manifest; no
report. So ``portfolio check`` of a ``portfolio run`` against it compares the
same draws byte for byte, and any change of a figure is caught. The optimizer
gets the scenario's deterministic budget, so the plan does not depend on the
speed or load of the machine; a plan cut by the wall-clock safety net is refused.
"""
from __future__ import annotations

import sys
from pathlib import Path

import optimize
import simulate
from optimize.output import write_plan
from portfolio.runfolder import atomic_folder
from scenarios.load import load_target

from .pipeline import planned_starts

ROOT = Path(__file__).resolve().parent.parent


def bundled_scenarios() -> list[Path]:
    """Every scenario file except sweeps (a sweep's variants are runs of the scenario it scales) and multi-origin
    backtests (their runs are the forecasts at each origin, checked by tests/test_evaluation.py)."""
    return sorted(p for p in (ROOT / "scenarios").glob("*.toml")
                  if not any(table in p.read_text(encoding="utf-8") for table in ("[sweep", "[backtest]")))


def expected_plan(scenario: Path):
    """The scenario's plan under its deterministic budget; refused when the wall clock cut it (not reproducible)."""
    portfolio, settings = load_target(scenario)
    plan = optimize.solve(portfolio, settings)
    if not plan.reproducible:
        raise RuntimeError(f"{scenario.name}: the wall-clock safety net ({settings.optimize.time_limit_s:g} s) "
                           "stopped the search; an expected output must not depend on the machine's load")
    return portfolio, settings, plan


def write_expected(scenario: Path, out: Path) -> None:
    """The plan and the Monte Carlo files of ``scenario`` into ``out`` (written whole)."""
    portfolio, settings, plan = expected_plan(scenario)
    with atomic_folder(out, tables_workbook=True) as folder:
        write_plan(portfolio, settings, plan, folder)
        result = simulate.run(portfolio, settings, plan_starts=planned_starts(plan))
        simulate.write_outputs(result, folder)


def main(names: list[str]) -> None:
    for scenario in bundled_scenarios():
        if names and scenario.stem not in names:
            continue
        write_expected(scenario, ROOT / "tests" / "expected" / scenario.stem)
        print(f"wrote tests/expected/{scenario.stem}")


if __name__ == "__main__":
    main(sys.argv[1:])
