"""Upper bounds on what one run may ask for, so that a typo cannot take the machine (docs/scenarios.md).

The same bounds hold for scenario files and command-line options; they are checked before anything runs.
"""
from __future__ import annotations

import os

MAX_ITERATIONS = 10**9  # Monte Carlo iterations of one run (the fast engine does ~1e5-1e6 per second)
MAX_WORKERS = 256  # worker processes (simulation) or CP-SAT search threads asked for
MAX_DASK_LOCAL_WORKERS = 64  # worker processes of a local Dask cluster (--dask local:N)
MAX_TIME_LIMIT_S = 86400.0  # seconds of CP-SAT per plan (one day)
MAX_DETERMINISTIC_TIME = 1e6  # CP-SAT deterministic time per plan (the bundled plans need 2-40)
MAX_SWEEP_VARIANTS = 1000  # variants of one scenario's [sweep] grid (each is a full plan, simulation and report)
MAX_ORIGINS = 50  # status dates of one multi-origin backtest (each is a plan and two simulations)
MAX_SEED = 2**63 - 1  # the largest whole number a TOML file can hold


def usable_processes(workers: int, parts: int) -> int:
    """Processes actually started for ``parts`` pieces of work: never more than the pieces, nor 4 per CPU
    (the files are the same whatever the count, so this only bounds the load)."""
    return max(1, min(int(workers), int(parts), 4 * (os.cpu_count() or 1)))
