"""The fast engine: the execution rule of docs/simulation.md, compiled, for a block of iterations.

It returns exactly the ``Outcomes`` of the SimPy reference engine (``engine_simpy``), bit for bit, from the same
``Draws``: the kernel (``fast_kernel``) does the same floating-point operations on the same values in the same
order per iteration, without SimPy's events (docs/simulation.md, "Fast engine"). This module lays the model out
as the flat arrays the kernel reads, once per model.
"""
from __future__ import annotations

import weakref

import numpy as np

from .fast_kernel import NEVER, run_rows
from .model import DONE, FF, FS, FUTURE, SF, SS, SimModel
from .outcomes import Outcomes
from .sampling import Draws

_ARGS: "weakref.WeakKeyDictionary[SimModel, tuple]" = weakref.WeakKeyDictionary()
_MALLOC_TUNED = False


def _keep_freed_memory() -> None:
    """Ask glibc to keep freed memory for reuse instead of returning it to the system at once.

    A run allocates the same large arrays chunk after chunk (draws, outcomes, statistics). By default glibc gives
    blocks above its mmap threshold back to the system when they are freed and trims the top of the heap, so
    every chunk touches fresh pages again: on the benchmark machine (a VM) that page-faulting cost about 0.6 µs
    per iteration of the baseline, a twenty-fifth of the run. The peak memory is the same either way. Nothing
    happens where this is not glibc.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_trim_threshold, 1 << 30)
        libc.mallopt(m_mmap_threshold, 1 << 30)
    except (OSError, AttributeError):
        pass


def _csr(keys: np.ndarray, n: int, *columns: np.ndarray) -> tuple:
    """Rows grouped by ``keys`` (0 .. n - 1), in their order within a key: (pointers, columns...)."""
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    return (ptr, *(np.ascontiguousarray(col[order]) for col in columns))


def _members(model: SimModel) -> tuple[np.ndarray, np.ndarray]:
    """The activities of each project: (pointers, activities)."""
    mem_ptr = np.zeros(len(model.members) + 1, dtype=np.int64)
    np.cumsum([len(m) for m in model.members], out=mem_ptr[1:])
    members = np.concatenate([np.asarray(m, dtype=np.int64) for m in model.members]) if model.members else []
    return mem_ptr, np.asarray(members, dtype=np.int64)


def _kernel_args(model: SimModel) -> tuple:
    """The model as the kernel's arguments (see ``fast_kernel.run_rows``)."""
    n = model.n
    pred = model.link_pred.astype(np.int64)
    succ = model.link_succ.astype(np.int64)
    kind = model.link_kind.astype(np.int64)
    lag = model.link_lag.astype(np.int64)
    link = np.arange(len(kind), dtype=np.int64)
    neg = (kind == FS) & (lag < 0)
    start_link = (kind == FS) | (kind == SS)
    hold = (kind == FF) | (kind == SF)
    # Start links per successor: kind 0 FS (lag as is), 1 SS (max(lag, 0)), 2 FS with a negative lag.
    s_kind = np.where(neg, 2, np.where(kind == SS, 1, 0))
    lag_pos = np.maximum(lag, 0).astype(float)
    sl = _csr(succ[start_link], n, link[start_link], pred[start_link], s_kind[start_link],
              np.where(kind == FS, lag, lag_pos)[start_link].astype(float))
    el = _csr(succ[hold], n, link[hold], pred[hold], (kind == FF)[hold], lag_pos[hold])
    on_end = ((kind == FS) & ~neg) | (kind == FF)
    oe = _csr(pred[on_end], n, succ[on_end], (kind == FF)[on_end].astype(np.int64))
    on_start = (kind == SS) | (kind == SF)
    os_ = _csr(pred[on_start], n, succ[on_start], (kind == SF)[on_start].astype(np.int64))
    ng = _csr(pred[neg], n, link[neg], succ[neg], (-lag[neg]).astype(float))
    state = model.state.astype(np.int64)
    n_start = np.where(state == FUTURE, np.bincount(succ[start_link], minlength=n), NEVER).astype(np.int64)
    n_end = np.where(state == DONE, NEVER, np.bincount(succ[hold], minlength=n) + 1).astype(np.int64)
    S = len(model.sources)
    refill_k = np.array([k for k, _ in model.refills], dtype=np.int64)
    refill_cap = np.array([caps for _, caps in model.refills], dtype=float).reshape(len(refill_k), S)
    stops = sorted((k, j) for k, who in model.stopped.items() for j in who)
    stop_ptr = np.zeros(model.horizon + 1 if stops else 0, dtype=np.int64)
    stop_act = np.array([j for _, j in stops], dtype=np.int64)
    if stops:
        np.cumsum(np.bincount([k for k, _ in stops], minlength=model.horizon), out=stop_ptr[1:])
    return (int(model.horizon), state, model.plan_bound.astype(np.int64), model.fixed_start.astype(float),
            model.fixed_end.astype(float), model.source_of.astype(np.int64), model.funding_rank.astype(np.int64),
            model.traced.astype(np.bool_),
            *sl, *el, *oe, *os_, *ng, n_start, n_end, model.pool0.astype(float), refill_k, refill_cap,
            bool(model.carry_over), stop_ptr, stop_act, pred, model.project_of.astype(np.int64), *_members(model))


def run_block(model: SimModel, draws: Draws) -> Outcomes:
    """Execute every iteration of ``draws``; the same ``Outcomes`` as ``engine_simpy.run_block``."""
    _keep_freed_memory()
    args = _ARGS.get(model)
    if args is None:
        args = _ARGS[model] = _kernel_args(model)
    rows, n = draws.size, model.n
    start, end = np.empty((rows, n)), np.empty((rows, n))
    sd, ed = np.empty((rows, n), dtype=np.int64), np.empty((rows, n), dtype=np.int64)
    on_path = np.empty((rows, n), dtype=bool)
    run_rows(np.ascontiguousarray(draws.work), np.ascontiguousarray(draws.rate), start, end, sd, ed, on_path,
             *args)
    return Outcomes(draws.i0, start, end, on_path, sd, ed)
