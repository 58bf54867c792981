"""Progress of CP-SAT solves on the terminal: throttled, ended cleanly, silent with --quiet, and without effect on
the plan."""
from __future__ import annotations

import io

import numpy as np
from click.testing import CliRunner

import cli
import optimize
from optimize import core
from optimize.progress import TerminalLine, terminal_progress
from scenarios.load import load_target


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_line_is_redrawn_at_most_every_interval_and_ended_once():
    stream, clock = io.StringIO(), Clock()
    line = TerminalLine(stream, interval=0.25, clock=clock)
    line("weighted_lateness", 70, 20, 1.0)
    clock.now = 0.1
    line("weighted_lateness", 64, 20, 1.1)  # too soon: kept for later
    assert stream.getvalue().count("\r") == 1
    clock.now = 0.4
    line("weighted_lateness", 64, 28, 1.4)
    line(None, None, None, 2.0)  # the solve is over: the line ends
    text = stream.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "plan: weighted_lateness  best 64  bound 28  1.4 s" in text
    line.close()
    assert stream.getvalue() == text  # nothing drawn since: nothing more to end


def test_the_seconds_keep_counting_while_the_solver_is_silent():
    """Presolve or a bound proof can keep CP-SAT silent for many seconds: the line must not freeze meanwhile."""
    import re
    import time

    stream = io.StringIO()
    line = TerminalLine(stream, interval=0.05, tick=True)
    line("weighted_lateness", None, None, 1.0)  # the stage has begun; nothing more is heard for a while
    time.sleep(0.5)
    line(None, None, None, 1.5)
    text = stream.getvalue()
    seconds = [float(x) for x in re.findall(r"best —  bound —  ([\d.]+) s", text)]
    assert len(seconds) >= 3 and seconds == sorted(seconds) and seconds[-1] >= 1.2, text
    assert text.endswith("\n") and text.count("\n") == 1
    time.sleep(0.2)
    assert stream.getvalue() == text  # the line is over: no redraw after it


def test_listening_to_the_solver_does_not_change_the_plan(mini_data):
    portfolio, settings = load_target(mini_data)
    quiet = optimize.solve(portfolio, settings, time_limit=10, workers=1)
    stream = io.StringIO()
    with terminal_progress(True, stream):
        heard = optimize.solve(portfolio, settings, time_limit=10, workers=1)
    assert core.progress_report is None  # restored
    assert heard.status == quiet.status and np.array_equal(heard.start, quiet.start)
    assert "plan: " in stream.getvalue() and "best " in stream.getvalue() and stream.getvalue().endswith("\n")


def test_progress_follows_the_terminal_and_quiet(mini_data, tmp_path, monkeypatch):
    import click.testing

    import optimize.progress

    scenario = tmp_path / "s.toml"
    scenario.write_text('data = "data"\n', encoding="utf-8")
    asked = []

    def spy(enabled, stream=None):
        asked.append(enabled)
        return terminal_progress(False)

    monkeypatch.setattr(optimize.progress, "terminal_progress", spy)
    for tty, args, expected in ((False, [], False), (True, [], True), (True, ["--quiet"], False)):
        monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self, tty=tty: tty, raising=False)
        result = CliRunner().invoke(cli.main, ["schedule", str(scenario), "--out", str(tmp_path / "o"), *args])
        assert result.exit_code == 0, result.output
        assert asked[-1] is expected, (tty, args)
