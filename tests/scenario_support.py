"""Scenario files written for a test, and the problems loading one reports.

(No tests here; tests/test_scenarios.py and tests/test_sweep.py import these helpers.)
"""
from __future__ import annotations

import pytest

from portfolio.errors import InputError
from scenarios.load import load_scenario


def write_scenario(folder, text: str, name: str = "s.toml"):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path) -> list[str]:
    """The problems ``load_scenario`` reports for ``path``, one ``file:line:col: message`` each."""
    with pytest.raises(InputError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]
