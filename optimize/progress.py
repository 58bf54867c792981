"""Progress of long CP-SAT solves on the terminal: stage, best objective, bound and time, one line redrawn.

A solve of 10-20 s with no sign of life looks hung. ``terminal_progress(enabled)`` makes ``optimize.core`` report
each new solution and bound to a line on stderr, at most a few times a second, and ends the line when the solve
is done. Between two reports (presolve, or proving a bound can take many seconds) the seconds keep counting, so a
busy solver never looks hung. The commands enable it when stderr is a terminal and ``--quiet`` is not given. Only what is printed
changes: the solver's search and the plan are the same.
"""
from __future__ import annotations

import contextlib
import sys
import threading
import time

from . import core

INTERVAL = 0.25  # seconds between two redraws


class TerminalLine:
    """Draws ``plan: <stage> best <value> bound <bound> <seconds> s`` on one line of ``stream``, throttled."""

    def __init__(self, stream=None, interval: float = INTERVAL, clock=time.monotonic, tick: bool = False):
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.clock = clock
        self.tick = tick  # redraw the seconds every interval while the solver is silent (a thread)
        self.lock = threading.Lock()
        self.last = None  # when the line was last drawn
        self.pending = None  # the newest figures not yet drawn
        self.drawn = False
        self.latest = None  # (figures, clock then): what the seconds count on from
        self.stop = None  # set to end the ticking thread

    def __call__(self, stage: str | None, best, bound, seconds: float) -> None:
        if stage is None:  # the solve is over
            self.close()
            return
        with self.lock:
            self.pending = (stage, best, bound, seconds)
            now = self.clock()
            self.latest = (self.pending, now)
            if self.last is None or now - self.last >= self.interval:
                self._draw()
                self.last = now
            if self.tick and self.stop is None:
                self.stop = threading.Event()
                threading.Thread(target=self._ticking, args=(self.stop,), daemon=True).start()

    def _ticking(self, stop: threading.Event) -> None:
        """Until ``stop``: redraw the latest figures with the seconds since the solve began, every interval."""
        while not stop.wait(self.interval):
            with self.lock:
                if stop.is_set() or self.latest is None:
                    return
                (stage, best, bound, seconds), at = self.latest
                now = self.clock()
                if self.last is None or now - self.last >= self.interval:
                    self.pending = (stage, best, bound, seconds + now - at)
                    self._draw()
                    self.last = now

    def _draw(self) -> None:
        stage, best, bound, seconds = self.pending
        text = f"plan: {stage}  best {_num(best)}  bound {_num(bound)}  {seconds:.1f} s"
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()
        self.drawn = True
        self.pending = None

    def close(self) -> None:
        """Draw the last figures and end the line, so that what follows starts on a fresh one."""
        with self.lock:
            if self.stop is not None:
                self.stop.set()
                self.stop = None
            self.latest = None
            if self.pending is not None:
                self._draw()
            if self.drawn:
                self.stream.write("\n")
                self.stream.flush()
            self.drawn, self.last = False, None


def _num(value) -> str:
    if value is None:
        return "—"
    value = float(value)
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:.4g}"


@contextlib.contextmanager
def terminal_progress(enabled: bool, stream=None):
    """While inside, CP-SAT solves in this process report to a line on ``stream`` (stderr) when ``enabled``."""
    if not enabled:
        yield
        return
    line = TerminalLine(stream, tick=True)
    previous, core.progress_report = core.progress_report, line
    try:
        yield line
    finally:
        core.progress_report = previous
        line.close()
