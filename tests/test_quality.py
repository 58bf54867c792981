"""The schedule-quality gate: a clean hand-made schedule passes every check, and one change fails each check."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from portfolio.model import Activity, Link, Portfolio, Project
from portfolio.quality import THRESHOLDS, assess, parse_thresholds, table

ROOT = Path(__file__).resolve().parent.parent
STATUS = 2024 * 12  # 2024-01


def _activity(aid: str, duration: float = 6, preds: tuple[Link, ...] = (), **extra) -> Activity:
    fields = dict(cost=1.0, funding_source="local")
    fields.update(extra)
    return Activity(aid, "P", aid, duration * 0.85, duration, duration * 1.2, preds, **fields)


def _clean() -> list[Activity]:
    """A -> B -> C, six months each, all with cost: 18 months, no float."""
    return [_activity("A"), _activity("B", preds=(Link("A"),)), _activity("C", preds=(Link("B"),))]


def _checks(activities: list[Activity], deadline_end: int = 18, hard: bool = False, baseline=None,
            **limits) -> dict[str, str]:
    portfolio = Portfolio((Project("P", "项目", "P", "other", "", 1, None, 10, ""),), tuple(activities))
    checks = assess(portfolio, STATUS, STATUS + deadline_end - 1, hard, limits, baseline)
    # the gate fails on ``passed is False``: a numpy bool there would let a failed check through
    assert all(c.passed is None or type(c.passed) is bool for c in checks), [(c.name, type(c.passed)) for c in checks]
    assert [c.result == "FAIL" for c in checks] == [c.passed is False for c in checks]
    return {c.name.split(" (")[0]: c.result for c in checks}


def _fails_only_there(results: dict[str, str], name: str) -> None:
    assert results[name] == "FAIL", results
    assert _checks(_clean())[name] == "pass"


def test_clean_schedule_passes_every_applicable_check():
    results = _checks(_clean())
    assert results == {"missing logic": "pass", "leads": "pass", "lags": "pass", "relationship types": "pass",
                       "hard constraints": "pass", "high float": "pass", "negative float": "pass",
                       "high duration": "pass", "invalid dates": "pass", "resources": "pass", "missed tasks": "n.a.",
                       "critical path test": "pass", "CPLI": "pass", "BEI": "n.a."}


def test_missing_logic():
    _fails_only_there(_checks(_clean() + [_activity("D", 1, preds=(Link("A"),))]), "missing logic")


def test_leads():
    acts = _clean()
    acts[2] = replace(acts[2], predecessors=(Link("B", "FS", -1),))
    _fails_only_there(_checks(acts), "leads")


def test_lags():
    acts = _clean()
    acts[2] = replace(acts[2], predecessors=(Link("B", "FS", 1),))
    _fails_only_there(_checks(acts), "lags")


def test_relationship_types():
    acts = _clean()
    acts[1] = replace(acts[1], predecessors=(Link("A", "SS", 0),))
    _fails_only_there(_checks(acts), "relationship types")


def test_hard_constraints():
    _fails_only_there(_checks(_clean(), hard=True), "hard constraints")


def test_high_float():
    acts = _clean()[:2] + [_activity("D", 1, preds=(Link("A"),)),
                           _activity("C", preds=(Link("B"), Link("D")))]
    _fails_only_there(_checks(acts), "high float")


def test_negative_float():
    _fails_only_there(_checks(_clean(), deadline_end=17), "negative float")


def test_high_duration():
    acts = _clean()
    acts[0] = _activity("A", 30)
    _fails_only_there(_checks(acts, deadline_end=42), "high duration")


def test_invalid_dates():
    acts = _clean()
    acts[0] = replace(acts[0], actual_start=STATUS + 2)
    _fails_only_there(_checks(acts), "invalid dates")


def test_resources():
    acts = _clean()
    acts[1] = replace(acts[1], cost=0.0)
    _fails_only_there(_checks(acts), "resources")


def test_critical_path_test():
    """A running activity past its duration ends one month after the status date whatever its duration: a delay on it
    does not reach the project's end, the broken logic the test looks for."""
    acts = _clean()
    acts[0] = replace(acts[0], actual_start=STATUS - 20)
    _fails_only_there(_checks(acts, deadline_end=13), "critical path test")


def test_cpli():
    _fails_only_there(_checks(_clean(), deadline_end=15), "CPLI")


def _started_early() -> list[Activity]:
    """The clean chain, A having run from six months before the status date to the month before it."""
    acts = _clean()
    acts[0] = replace(acts[0], actual_start=STATUS - 6, actual_finish=STATUS - 1)
    return acts


def test_missed_tasks_and_bei_with_a_baseline():
    on_time = _checks(_started_early(), deadline_end=12, baseline={"A": STATUS - 1, "B": STATUS + 5})
    assert (on_time["missed tasks"], on_time["BEI"]) == ("pass", "pass")
    late = _started_early()
    late[0] = replace(late[0], actual_finish=None)  # still running at the status date
    results = _checks(late, deadline_end=13, baseline={"A": STATUS - 1, "B": STATUS + 5})
    assert (results["missed tasks"], results["BEI"]) == ("FAIL", "FAIL")
    finished_late = _checks(_started_early(), deadline_end=12, baseline={"A": STATUS - 2})
    assert (finished_late["missed tasks"], finished_late["BEI"]) == ("FAIL", "pass")  # done, a month after the baseline


def test_thresholds_change_the_verdict():
    acts = _clean()
    acts[2] = replace(acts[2], predecessors=(Link("B", "FS", 1),))  # 1 lag in 2 links: 50%
    assert _checks(acts, deadline_end=19, lags=50)["lags"] == "pass"
    assert _checks(acts, deadline_end=19, lags=49)["lags"] == "FAIL"
    assert parse_thresholds(["high_float=10", "cpli = 0.9"]) == {"high_float": 10.0, "cpli": 0.9}
    with pytest.raises(ValueError, match="got 'bogus=1'"):
        parse_thresholds(["bogus=1"])
    for bad in ("1_0", "nan", "inf", "-1", "abc"):  # "1_0" was read as 10
        with pytest.raises(ValueError, match="expected a number from 0"):
            parse_thresholds([f"leads={bad}"])
    assert set(THRESHOLDS) >= {"high_float_months", "high_duration_months"}


def test_table_columns():
    text = table(assess(Portfolio((Project("P", "项目", "P", "other", "", 1, None, 10, ""),), tuple(_clean())),
                        STATUS, STATUS + 17))
    assert text.splitlines()[0] == "| check | count | total | % / index | threshold | result |"
    assert "| lags | 0 | 2 | 0.0% | <= 5% | pass |" in text


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_gate_exit_codes(tmp_path):
    done = _cli("quality", "data", "--threshold", "high_float=100")
    assert done.returncode == 1 and done.stdout.startswith("| check |")
    assert done.stderr.startswith("quality gate failed: missing logic")
    bad = _cli("quality", "data", "--threshold", "high_float")
    assert bad.returncode == 2 and bad.stderr.startswith("--threshold: expected NAME=VALUE")


def test_cli_thresholds_file_and_a_schedule_file(tmp_path):
    limits = tmp_path / "gate.toml"
    limits.write_text("[quality]\nleads = 2\nlags = 30\n", encoding="utf-8")
    done = _cli("quality", "data", "--thresholds-file", str(limits))
    assert "| leads | 2 | 148 | 1.4% | <= 2% | pass |" in done.stdout and "| lags | 29 | 148 | 19.6% | <= 30% | pass |" in done.stdout
    xer = tmp_path / "two.xer"
    xer.write_text("ERMHDR\t20.12\n%T\tPROJECT\n%F\tproj_id\tproj_short_name\tlast_recalc_date\n%R\t1\tP\t2024-01-01 08:00\n"
                   "%T\tTASK\n%F\ttask_id\tproj_id\ttask_code\ttask_name\ttarget_drtn_hr_cnt\tearly_end_date\n"
                   "%R\t1\t1\tA\ta\t173.33\t2024-01-31 16:00\n%R\t2\t1\tB\tb\t173.33\t2024-02-29 16:00\n"
                   "%T\tTASKPRED\n%F\ttask_pred_id\ttask_id\tpred_task_id\tpred_type\tlag_hr_cnt\n%R\t1\t2\t1\tPR_FS\t0\n"
                   "%T\tPROJCOST\n%F\tcost_item_id\ttask_id\ttarget_cost\n%R\t1\t1\t100\n%R\t2\t2\t100\n%E\n",
                   encoding="utf-8")
    done = _cli("quality", str(xer))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| relationship types (FS) | 1 | 1 | 100.0% | >= 90% | pass |" in done.stdout


def test_cli_baseline_run(tmp_path):
    run = tmp_path / "plan"
    run.mkdir()
    (run / "schedule.csv").write_text("activity_id,finish\nXIY-P3.T1,2020-05\nXIY-P3.T4,2020-12\n", encoding="utf-8")
    done = _cli("quality", "data", "--baseline", str(run))
    assert "| missed tasks | 1 | 2 | 50.0% | <= 5% | FAIL |" in done.stdout  # T4 was due 2020-12, still running
    empty = tmp_path / "empty"
    empty.mkdir()
    done = _cli("quality", "data", "--baseline", str(empty))
    assert done.returncode == 2 and "no schedule.csv" in done.stderr
