"""Where the blocks of a Monte Carlo run are executed: in this process, in local worker processes, or on Dask.

The runner splits a run into parts (ranges of iterations inside one sampling block) and hands them, with a pure
``task(model, seed, i0, i1, engine, cache) -> Accumulator``, to an executor. Every executor yields
``((i0, i1), accumulator)`` for consecutive ranges that together cover the parts, **in iteration order**, so the
runner merges the integer sums in the same order whatever executes them, and the files are the same bytes.

- ``InProcess``: one after the other in this process (keeps the last sampling block drawn).
- ``ProcessPool(workers)``: local worker processes, a few parts in flight per worker (the model is sent once per
  process by the pool's initializer).
- ``DaskExecutor(client)``: a Dask cluster (``distributed``, the optional extra ``portfolio[dask]``). The model is
  scattered once to every worker; a Dask task is the parts of whole sampling blocks (1024 iterations each; one
  block for the SimPy engine, as many as take about a second for a faster one), keyed by (run, seed, first
  iteration), submitted with ``retries``; a task whose worker dies is computed again.
  ``open_executor("tcp://HOST:PORT")`` connects to a running scheduler (``tls://HOST:PORT`` with this client's
  certificates, a ``distributed.security.Security``); ``open_executor("local:N")`` starts a local cluster of N
  single-threaded worker processes, reachable on loopback only, for the duration of the ``with`` block.

See docs/cluster.md.
"""
from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import re
import socket
import ssl
import threading
import time
import uuid
import warnings
from collections import deque
from concurrent.futures import CancelledError, ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Iterator, Protocol

from portfolio.limits import MAX_DASK_LOCAL_WORKERS
from portfolio import interrupts
from portfolio.errors import PortfolioError

from .model import BLOCK, SimModel

Part = tuple[int, int]
Task = Callable  # task(model, seed, i0, i1, engine, cache) -> Accumulator (simulate.runner.run_chunk)

CONNECT_TIMEOUT = 30.0  # seconds to reach a scheduler (and for it to have a worker)
INSTALL_HINT = "install the optional extra: pip install 'portfolio[dask]' (or pip install 'dask[distributed]')"


class ExecutorError(PortfolioError):
    """The executor cannot be used (no Dask installed, no scheduler at the address, workers run other code)."""


class Executor(Protocol):
    name: str

    def run(self, task: Task, model: SimModel, seed: int, engine: str,
            parts: list[Part]) -> Iterator[tuple[Part, object]]:
        """Accumulators of consecutive ranges covering ``parts``, in iteration order."""

    def map(self, fn: Callable, calls: list[tuple]) -> Iterator:
        """``fn(*args)`` for each ``args`` of ``calls`` (a pure, picklable function), results in order."""


def merged(task: Task, model: SimModel, seed: int, parts: list[Part], engine: str, cache: dict | None = None):
    """The accumulator of several consecutive parts, merged in order."""
    cache = {} if cache is None else cache
    total = None
    for i0, i1 in parts:
        acc = task(model, seed, i0, i1, engine, cache)
        total = acc if total is None else total.merge(acc)
    return total


def timed_merged(task: Task, model: SimModel, seed: int, parts: list[Part], engine: str):
    """One Dask task: ``merged`` and the seconds it took on the worker (to size the next tasks)."""
    t0 = time.perf_counter()
    acc = merged(task, model, seed, parts, engine)
    return acc, time.perf_counter() - t0


def by_block(parts: list[Part], size: int = BLOCK) -> list[list[Part]]:
    """The parts grouped by the block of ``size`` iterations they fall in (consecutive parts, in order)."""
    groups: list[list[Part]] = []
    for part in parts:
        if groups and groups[-1][0][0] // size == part[0] // size:
            groups[-1].append(part)
        else:
            groups.append([part])
    return groups


# -- in this process ------------------------------------------------------------------------------

class InProcess:
    name = "in-process"

    def run(self, task, model, seed, engine, parts):
        cache: dict = {}
        for i0, i1 in parts:
            yield (i0, i1), task(model, seed, i0, i1, engine, cache)

    def map(self, fn, calls):
        for args in calls:
            yield fn(*args)


# -- local worker processes -----------------------------------------------------------------------

_WORKER: dict = {}


def _init_worker(task, model: SimModel, seed: int, engine: str) -> None:
    interrupts.in_worker()  # the parent handles Ctrl-C and SIGTERM and stops the pool
    _WORKER.update(task=task, model=model, seed=seed, engine=engine, cache={})


def _work(i0: int, i1: int):
    w = _WORKER
    return w["task"](w["model"], w["seed"], i0, i1, w["engine"], w["cache"])


class ProcessPool:
    """``workers`` local processes; a few parts in flight per worker, consumed in order."""

    name = "processes"

    def __init__(self, workers: int):
        self.workers = int(workers)

    def run(self, task, model, seed, engine, parts):
        # A few parts in flight per worker, consumed in part order: merging is in order by construction, and on
        # Ctrl-C only those few are cancelled (never wait() on thousands of futures: an interrupt inside it can
        # leave their locks held and hang the interpreter's exit).
        pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_init_worker,
                                   initargs=(task, model, seed, engine))
        try:
            todo = iter(parts)
            inflight: deque = deque()

            def submit_next() -> None:
                part = next(todo, None)
                if part is not None:
                    inflight.append((part, pool.submit(_work, *part)))

            with interrupts.starting_workers():  # the first submit forks the workers
                for _ in range(2 * self.workers + 1):
                    submit_next()
            while inflight:
                part, future = inflight.popleft()
                acc = future.result()
                submit_next()
                yield part, acc
        except BaseException:  # including GeneratorExit when the consumer stops early
            _stop_now(pool)
            raise
        pool.shutdown(wait=True)

    def map(self, fn, calls):
        calls = list(calls)
        if len(calls) <= 1 or self.workers <= 1:
            yield from InProcess().map(fn, calls)
            return
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(calls)), initializer=interrupts.in_worker)
        try:
            with interrupts.starting_workers():
                futures = [pool.submit(fn, *args) for args in calls]
            for future in futures:
                yield future.result()
        except BaseException:
            _stop_now(pool)
            raise
        pool.shutdown(wait=True)


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """Cancel the parts not started and ask the workers to stop (SIGTERM, see ``portfolio.interrupts.in_worker``):
    a CP-SAT search in a worker ends at once instead of at its time limit; then the workers exit, and this
    process's exit waits for them, so that none outlives the command."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            if process.is_alive():
                process.terminate()


def local_executor(workers: int = 1) -> Executor:
    return ProcessPool(workers) if workers > 1 else InProcess()


# -- Dask ------------------------------------------------------------------------------------------

def _distributed():
    try:
        import distributed
    except ImportError:
        raise ExecutorError(f"--dask needs the Python package 'distributed': {INSTALL_HINT}") from None
    return distributed


def code_fingerprint() -> str:
    """sha256 of the source of the packages that run on workers (simulate, portfolio, optimize): they must match."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for folder in (here, here.parent / "portfolio", here.parent / "optimize"):
        for path in sorted(folder.glob("*.py")):
            digest.update(f"{folder.name}/{path.name}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def environment() -> dict[str, str]:
    """What must be the same on the client and every worker for identical bytes.

    Run on every worker when an executor is made, it also imports what the tasks need (the simulator, the
    optimizer for a sweep's plans), so that the first blocks do not pay for the imports.
    """
    import numpy
    import ortools
    import pandas  # noqa: F401
    import scipy
    import simpy

    import optimize  # noqa: F401

    from . import engine_fast, engine_simpy, sampling, stats  # noqa: F401  (what simulate.runner's tasks run)

    return {"code": code_fingerprint(), "numpy": numpy.__version__, "scipy": scipy.__version__,
            "simpy": simpy.__version__, "ortools": ortools.__version__}


def _result(future):
    """The future's result; a failure of the cluster itself (not of the task's code) as an ExecutorError."""
    distributed = _distributed()
    try:
        return future.result()
    except (distributed.KilledWorker, CancelledError, OSError, TimeoutError) as exc:
        raise ExecutorError(f"the Dask cluster failed: {type(exc).__name__}: {exc}") from exc


# Task size. A task's round trip costs about 10 ms (BENCHMARKS.md, "Dask"); a SimPy block about 2 s, a block of the
# fast engine much less. So the first tasks of a run are one block each, and later ones hold as many blocks as
# take about TASK_SECONDS by the times measured so far (never so many that a worker thread would be left without
# work). The output does not depend on the grouping: the sums are merged in iteration order either way.
TASK_SECONDS = 1.0
MAX_TASK_BLOCKS = 256


class DaskExecutor:
    """Blocks as Dask tasks on ``client``'s cluster.

    ``block_iterations``: iterations per task (a multiple of the sampling block, so a task draws whole blocks);
    default: sized as the run goes to take about ``TASK_SECONDS`` each;
    ``retries``: how often a task that failed is tried again (a task whose worker died is rescheduled by the
    scheduler itself, up to its ``distributed.scheduler.allowed-failures``); ``window``: tasks submitted ahead of
    the next one to merge, per worker thread (bounds the memory of results waiting to be merged).
    """

    name = "dask"

    def __init__(self, client, *, block_iterations: int | None = None, retries: int = 3, window: int = 4,
                 check: bool = True):
        if block_iterations is not None and (block_iterations <= 0 or block_iterations % BLOCK):
            raise ValueError(f"block_iterations must be a positive multiple of {BLOCK}")
        self.client, self.block_iterations, self.retries, self.window = client, block_iterations, retries, window
        self.address = getattr(getattr(client, "scheduler", None), "address", "") or ""
        self._active: set = set()  # futures submitted and not yet collected, by every run of this executor
        self._lock = threading.Lock()
        if check:
            self.check_workers()

    def cancel(self) -> None:
        """Cancel every task of this executor's runs (from any thread): each run stops with an ExecutorError."""
        with self._lock:
            futures, self._active = list(self._active), set()
        for future in futures:
            future.cancel()

    def _track(self, future):
        with self._lock:
            self._active.add(future)
        return future

    def _done(self, future) -> None:
        with self._lock:
            self._active.discard(future)

    def threads(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def check_workers(self) -> None:
        """Fail clearly when the workers would compute with other code or other numeric libraries."""
        local = environment()
        try:
            remote = self.client.run(environment)
        except Exception as exc:  # a worker without the package cannot even unpickle the function
            raise ExecutorError(f"the Dask workers at {self.address} cannot run the simulator ({exc}); install "
                                "this same version of portfolio on every worker") from None
        for worker, env in sorted(remote.items()):
            diff = [k for k in local if env.get(k) != local[k]]
            if diff:
                what = ", ".join("the simulator's source code" if k == "code" else f"{k} {env.get(k)} (here "
                                 f"{local[k]})" for k in diff)
                raise ExecutorError(f"Dask worker {worker} differs from this machine: {what}; install the same "
                                    "version of portfolio and its libraries on every worker")

    def run(self, task, model, seed, engine, parts):
        distributed = _distributed()
        client = self.client
        blocks = by_block(parts, self.block_iterations or BLOCK)  # fixed size, or single blocks to group as we go
        taken = 0  # blocks handed out so far
        per_block: list[float] = []  # seconds per block of the tasks done so far (adaptive size only)
        threads = self.threads()  # worker threads, asked again every 64 tasks (workers may come and go)

        def next_group() -> tuple[list[Part], int]:
            nonlocal taken
            count = 1
            if not self.block_iterations and per_block:
                recent = sorted(per_block[-16:])
                estimate = recent[len(recent) // 2]  # median of the last tasks, robust to a slow one
                count = int(min(MAX_TASK_BLOCKS, max(1, TASK_SECONDS // max(estimate, 1e-6))))
                count = min(count, max(1, -(-(len(blocks) - taken) // threads)))
            chosen = blocks[taken:taken + count]
            taken += len(chosen)
            return [p for block in chosen for p in block], len(chosen)

        run_id = uuid.uuid4().hex[:12]
        model_future = client.scatter(model, broadcast=True, hash=False)  # once per worker, not once per task
        futures: dict[int, object] = {}
        results: dict[int, object] = {}
        index_of: dict = {}
        pending = distributed.as_completed()
        submitted = nxt = 0
        try:
            while True:
                while taken < len(blocks) and submitted - nxt < self.window * threads:
                    if submitted and submitted % 64 == 0:
                        threads = self.threads()
                    group, n_blocks = next_group()
                    future = self._track(client.submit(timed_merged, task, model_future, seed, group, engine,
                                                       key=f"portfolio-block-{run_id}-{seed}-{group[0][0]}",
                                                       retries=self.retries, pure=False))
                    futures[submitted] = future
                    index_of[future.key] = (submitted, group[0][0], group[-1][1], n_blocks)
                    pending.add(future)
                    submitted += 1
                if nxt == submitted:
                    break
                while nxt not in results:
                    future = next(pending)
                    index, i0, i1, n_blocks = index_of.pop(future.key)
                    acc, seconds = _result(future)  # raises the task's error after its retries
                    results[index] = (i0, i1), acc
                    per_block.append(seconds / n_blocks)
                    del futures[index]
                    self._done(future)
                yield results.pop(nxt)
                nxt += 1
        finally:
            for future in futures.values():
                future.cancel()
                self._done(future)
            pending.clear()
            del model_future

    def map(self, fn, calls):
        calls = list(calls)
        name = getattr(fn, "__name__", "call")
        run_id = uuid.uuid4().hex[:12]
        futures = [self._track(self.client.submit(fn, *args, key=f"portfolio-{name}-{run_id}-{k}",
                                                  retries=self.retries, pure=False)) for k, args in enumerate(calls)]
        try:
            for future in futures:
                yield _result(future)
                self._done(future)
        finally:
            for future in futures:
                if not future.done():
                    future.cancel()
                self._done(future)


LOOPBACK = "127.0.0.1"
TLS_OPTIONS = "--tls-ca-file, --tls-cert and --tls-key"


def _is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is this machine's loopback (a name that does not resolve is not)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


def plain_tcp_warning(spec: str) -> str | None:
    """A one-line warning when ``spec`` reaches another machine without TLS (anyone who reaches it runs code)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(spec)
    if scheme not in ("tcp", "ws") or _is_loopback(parse_host_port(location.rstrip("/"), 8786)[0]):
        return None
    return (f"warning: --dask {spec}: plain {scheme}:// has no authentication nor encryption, whoever reaches that "
            "port runs code on the workers as their user; use it on a trusted network only, else tls:// "
            "(docs/cluster.md, \"Running a cluster safely\")")


def client_security(*, tls_ca_file: str | None = None, tls_cert: str | None = None, tls_key: str | None = None):
    """Dask's ``Security`` of this client: the files given (encryption required), the rest from the Dask config
    (``distributed.comm.tls.ca-file``, ``distributed.comm.tls.client.cert`` and ``.key``, as ``Security()``)."""
    given = {k: v for k, v in (("tls_ca_file", tls_ca_file), ("tls_client_cert", tls_cert),
                               ("tls_client_key", tls_key)) if v}
    from distributed.security import Security

    return Security(require_encryption=True, **given) if given else Security()


def _checked_security(spec: str, security):
    """The Security to reach ``spec``: certificates that load for ``tls://``, none for anything else."""
    from distributed.comm.addressing import parse_address

    scheme = "local" if re.fullmatch(r"local(:.*)?", spec) else parse_address(spec)[0]
    if scheme != "tls":
        if security is not None and (security.tls_ca_file or security.tls_client_cert):
            raise ExecutorError(f"--dask {spec}: TLS certificates ({TLS_OPTIONS}) are for a tls://HOST:PORT "
                                "scheduler only")
        return security
    security = client_security() if security is None else security
    if not (security.tls_ca_file and security.tls_client_cert):
        raise ExecutorError(f"--dask {spec}: a tls:// scheduler needs this client's certificates: {TLS_OPTIONS} "
                            "(or distributed.comm.tls.ca-file and distributed.comm.tls.client.cert/key in the Dask "
                            "config); see docs/cluster.md")
    try:
        security.get_connection_args("client")  # loads the CA, the certificate and its key
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise ExecutorError(f"--dask {spec}: cannot load the TLS certificates ({TLS_OPTIONS}): {exc}") from None
    return security


def local_workers(digits: str | None) -> int:
    """N of ``local:N`` (2 when left out): 1 .. MAX_DASK_LOCAL_WORKERS, else an ExecutorError (the digits are
    never turned into a huge number: "local:99999999999999999999" must not try to start that many workers)."""
    digits = (digits or "2").lstrip("0") or "0"
    n = int(digits) if len(digits) <= 6 else MAX_DASK_LOCAL_WORKERS + 1
    if not 1 <= n <= MAX_DASK_LOCAL_WORKERS:
        raise ExecutorError(f"--dask local:N needs 1 <= N <= {MAX_DASK_LOCAL_WORKERS} workers, got local:{digits[:12]}"
                            f"{'...' if len(digits) > 12 else ''}")
    return n


@contextlib.contextmanager
def open_executor(spec: str, *, timeout: float | None = None, security=None, warn: Callable | None = None,
                  **options):
    """A ``DaskExecutor`` for ``spec``: ``local:N`` (a local cluster of N worker processes on loopback, stopped
    afterwards) or the address of a running scheduler (``tcp://HOST:PORT``; ``tls://HOST:PORT`` with
    ``security``, a ``distributed.security.Security`` that defaults to the Dask config's; any scheme Dask knows,
    or ``HOST:PORT``). ``warn(message)`` gets the warning of a plain connection to another machine (default:
    ``warnings.warn``)."""
    spec = (spec or "").strip()
    local = re.fullmatch(r"local(?::(\d+))?", spec)
    if not local and not re.fullmatch(r"([a-z][a-z0-9+.-]*://)?[^\s/:]+(:\d+)?/?", spec):
        raise ExecutorError(f"--dask {spec!r}: expected local:N (a local cluster of N workers) or the address of a "
                            "Dask scheduler, e.g. tcp://10.0.0.5:8786")
    n = local_workers(local.group(1)) if local else 0  # a bad N fails before anything is imported or started
    distributed = _distributed()
    import logging

    security = _checked_security(spec, security)

    timeout = CONNECT_TIMEOUT if timeout is None else timeout

    with contextlib.ExitStack() as stack:
        if local:
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, host=LOOPBACK, dashboard_address=None,
                scheduler_kwargs={"dashboard_address": f"{LOOPBACK}:0"},  # no dashboard; its HTTP server: any port
                silence_logs=logging.ERROR))  # every socket of the cluster on loopback: unreachable from the network
            client = stack.enter_context(distributed.Client(cluster))
        else:
            message = plain_tcp_warning(spec)
            if message:
                (warn or warnings.warn)(message)
            try:
                client = stack.enter_context(distributed.Client(spec, timeout=timeout, security=security))
            except (OSError, TimeoutError) as exc:
                raise ExecutorError(f"cannot reach the Dask scheduler at {spec}: {exc}") from None
            except Exception as exc:  # e.g. an HTTP server's answer read as a Dask message: a MemoryError
                raise ExecutorError(f"no Dask scheduler answers at {spec} ({type(exc).__name__}: {exc}); check its "
                                    "address and scheme (tls:// or tcp://)") from None
            if not client.nthreads():
                try:
                    client.wait_for_workers(1, timeout=timeout)
                except (OSError, TimeoutError):
                    raise ExecutorError(f"the Dask scheduler at {spec} has no workers (waited {timeout:g} s); "
                                        f"start some with: dask worker {spec} --nthreads 1") from None
        yield DaskExecutor(client, **options)
