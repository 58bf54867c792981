"""What the deterministic budgets cost on the bundled scenarios (BENCHMARKS.md, "Deterministic budgets").

Plans every bundled scenario (and, with ``--sweep``, every variant of scenarios/funding-grid.toml) with its own
budget and prints one Markdown row each: the budget, the deterministic time used per stage and in total, the wall
seconds, the status and whether the plan is reproducible. Run it alone on the machine for comparable seconds:

    python benchmarks/det_budget.py [--sweep]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import optimize  # noqa: E402
from runs.expected import bundled_scenarios  # noqa: E402
from runs.sweep import load_variants  # noqa: E402
from scenarios.load import load_target  # noqa: E402


def row(name: str, portfolio, settings) -> str:
    t0 = time.perf_counter()
    plan = optimize.solve(portfolio, settings)
    wall = time.perf_counter() - t0
    stages = " + ".join(f"{s.deterministic_time:.2f}" for s in plan.stages)
    return (f"| {name} | {settings.optimize.deterministic_time:g} | {stages} = {plan.deterministic_time:.2f} "
            f"| {wall:.1f} | {plan.status} | {'yes' if plan.reproducible else 'NO'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="also the variants of scenarios/funding-grid.toml")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}, cores: {os.cpu_count()}")
    print("| scenario | budget | deterministic time used (stage 1 + stage 2 = total) | wall s | status | reproducible |")
    print("|---|---|---|---|---|---|")
    for scenario in bundled_scenarios():
        print(row(scenario.stem, *load_target(scenario)), flush=True)
    if args.sweep:
        for _scenario, variant in load_variants([ROOT / "scenarios" / "funding-grid.toml"]):
            print(row(variant.settings.name, variant.portfolio, variant.settings), flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
