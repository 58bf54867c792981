"""Ctrl-C (SIGINT) and SIGTERM end a command cleanly at any stage, and a search cut short is never a plan.

``install`` (the CLI calls it) makes SIGINT raise ``KeyboardInterrupt`` and SIGTERM raise ``Terminated`` in the
main thread, so every ``with`` and ``finally`` on the way out runs: the temporary run folder is removed, worker
processes are stopped. Only the first signal raises; later ones are ignored while the command stops, so that a
second Ctrl-C cannot break off the cleanup half way.

Python runs a signal handler only between bytecodes of the main thread, and a CP-SAT solve stays in C++ for up
to its time limit. So the signal also wakes a watcher thread (``signal.set_wakeup_fd``) that stops the searches
running inside ``stoppable``; the solve returns at once and the exception is raised where it returned, before
its answer is used. (CP-SAT's own SIGINT handling is switched off: it ends the search quietly, as if the time
limit had come, and leaves SIGINT at its default afterwards.)
"""
from __future__ import annotations

import contextlib
import signal
import socket
import threading

EXIT_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Terminated(BaseException):
    """SIGTERM, raised in the main thread like KeyboardInterrupt so that cleanup runs (exit status 143)."""


_STATE = {"signal": 0, "deferred": 0, "pending": 0}  # the signal being acted on; deferral depth; a deferred one
_SOLVERS: dict = {}  # id -> CP-SAT solver searching now (in any thread)
_GUARD = threading.Lock()
_WAKE: list = []  # the write end of the watcher's socket, once started


def exception_for(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated()


def _act_on(signum: int) -> BaseException:
    _STATE["signal"] = signum
    return exception_for(signum)


def _handler(signum, _frame) -> None:
    if _STATE["signal"]:
        return  # already stopping
    if _STATE["deferred"]:
        _STATE["pending"] = _STATE["pending"] or signum
        return
    raise _act_on(signum)


def _watch(sock: socket.socket) -> None:
    """Stop the running searches when SIGINT or SIGTERM arrives (the handler itself waits for the main thread)."""
    while True:
        data = sock.recv(64)
        if not data:
            return
        if any(b in (signal.SIGINT, signal.SIGTERM) for b in data):
            with _GUARD:
                solvers = list(_SOLVERS.values())
            for solver in solvers:
                solver.stop_search()


def install():
    """Our SIGINT/SIGTERM handlers and the watcher; returns a function that puts the previous handlers back.

    Outside the main thread (where Python allows no handlers) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    if not _WAKE:
        _start_watcher()
    _STATE.update(signal=0, deferred=0, pending=0)
    previous = {s: signal.signal(s, _handler) for s in EXIT_STATUS}
    previous_fd = signal.set_wakeup_fd(_WAKE[0].fileno(), warn_on_full_buffer=False)

    def restore() -> None:
        signal.set_wakeup_fd(previous_fd)
        for s, handler in previous.items():
            if handler is not None:
                signal.signal(s, handler)

    return restore


def _start_watcher() -> None:
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    threading.Thread(target=_watch, args=(reader,), name="portfolio-signals", daemon=True).start()
    _WAKE[:] = [writer]


def received() -> int:
    """The signal this process is stopping for (0 if none): an error raised after it is its consequence, e.g. a
    compiled function that the KeyboardInterrupt broke off reports a SystemError instead."""
    return _STATE["signal"]


def _note(signum, _frame) -> None:
    """A worker's SIGTERM: remembered, not raised; a CP-SAT search stops and raises it (``stoppable``)."""
    _STATE["signal"] = _STATE["signal"] or signum


def in_worker(*_args) -> None:
    """Initializer of a worker process. Ctrl-C is the parent's to handle; the parent stops its workers with SIGTERM.

    On SIGTERM a worker stops a CP-SAT search at once (its task fails) and finishes a Monte Carlo part (well under
    a second); it is not killed outright, because a worker killed while it sends a result leaves half a message
    in the pool's pipe and the parent hangs. A forked worker has the parent's state and no watcher: both renewed.
    """
    global _GUARD
    _GUARD = threading.Lock()
    _SOLVERS.clear()
    _STATE.update(signal=0, deferred=0, pending=0)
    _start_watcher()
    signal.set_wakeup_fd(_WAKE[0].fileno(), warn_on_full_buffer=False)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _note)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(EXIT_STATUS))  # blocked since the fork (``starting_workers``)


@contextlib.contextmanager
def starting_workers():
    """Start worker processes inside this: they are forked with SIGINT/SIGTERM blocked, so that a Ctrl-C that
    reaches a worker before ``in_worker`` ran is not handled by the parent's handler copied into it (a traceback
    from the worker); ``in_worker`` unblocks them."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, set(EXIT_STATUS))
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def stoppable(solver):
    """Let a signal stop ``solver``'s search; if one did, raise it here rather than return a partial answer."""
    key = id(solver)
    _raise_if_signalled()
    with _GUARD:
        _SOLVERS[key] = solver
    try:
        yield
    finally:
        with _GUARD:
            _SOLVERS.pop(key, None)
    _raise_if_signalled()


def _raise_if_signalled() -> None:
    """In the main thread the handler has raised already; in a worker (or a thread) a noted signal is raised here."""
    if _STATE["signal"] or _STATE["pending"]:
        raise exception_for(_STATE["signal"] or _STATE["pending"])


@contextlib.contextmanager
def deferred():
    """Hold SIGINT/SIGTERM back during a few steps that must not be cut (renames, cleanup); raise after them."""
    _STATE["deferred"] += 1
    try:
        yield
    finally:
        _STATE["deferred"] -= 1
    pending = _STATE["pending"]
    if pending and not _STATE["deferred"]:
        _STATE["pending"] = 0
        if not _STATE["signal"]:
            raise _act_on(pending)
