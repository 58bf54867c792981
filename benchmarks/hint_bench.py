"""The optimizer's warm start (list scheduling) and model building on a synthetic network (BENCHMARKS.md,
"Warm start on large networks"): seconds and placements tried for the four priority rules, then the CP-SAT
model's building time.

    python benchmarks/hint_bench.py [activities] [--model]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic_portfolio import synthetic  # noqa: E402
from optimize import core  # noqa: E402
from optimize.heuristic import Work, portfolio_hint  # noqa: E402
from optimize.problem import build, estimate_durations  # noqa: E402
from portfolio.network import build_network  # noqa: E402


def main() -> None:
    n = int(next((a for a in sys.argv[1:] if a.isdigit()), 10_000))
    portfolio, settings = synthetic(n, seed=1)
    network = build_network(portfolio, settings.status_date, settings.deadline)
    problem = build(portfolio, settings, network, estimate_durations(portfolio, settings)).problem
    t0 = time.perf_counter()
    work = Work()
    portfolio_hint(problem, "weighted_lateness", work=work)
    print(f"{n} activities: warm start {time.perf_counter() - t0:.2f} s, {work.spent:,} placements tried")
    if "--model" in sys.argv:
        t0 = time.perf_counter()
        core.CoreModel(problem, core.ModelOptions())
        print(f"model building {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
