"""The report stage: run folders, the human report, comparisons of runs and regression checks.

``write_report``, ``compare_runs`` and ``check_runs`` import matplotlib and pandas
only when called, so that ``portfolio.runfolder`` stays cheap for the other stages.
"""
from __future__ import annotations


def write_report(folder):
    """(Re)write report.md, report.html and charts/*.svg in a run folder."""
    from .write import write_report as _write_report

    return _write_report(folder)


def compare_runs(folder_a, folder_b) -> str:
    """What changed between two run folders, as Markdown."""
    from .compare import compare_runs as _compare_runs

    return _compare_runs(folder_a, folder_b)


def check_runs(folder, expected):
    """Regression check of a run folder against an expected one (see docs/regression.md)."""
    from .check import check_runs as _check_runs

    return _check_runs(folder, expected)
