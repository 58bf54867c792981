"""Build the "Chinese schedule classes" variant of the backtest: a copy of data/ and of the multi-origin scenario.

The variant replaces, for the rail, metro and water classes, the Western works and opening tails with the spread
of the Chinese reference class of docs/china_schedule_reference.md (28 projects outside the portfolio), and drops
those classes' default risk events, because a ratio of actual to planned construction period already holds the
slips. Fixed on 2026-12-05 before any run of it (docs/backtest.md, variant log):

- works and opening activities tagged hsr, metro, water-tunnel or dam get o = min(m, max(1, round(a m))) and
  p = max(m + 1, round(b m)) (the rule of docs/reference_classes.md) with (a, b) = (P10, P90) of the class's
  ratios over all rows: rail (0.66, 1.12), metro (0.96, 1.27), water (0.95, 1.45);
- preparation activities keep their tails (the ratios count from the actual start of construction);
- the RC- rows (default risk events) of those classes leave risks.csv; the register's own risks stay;
- every other class, activity and file is unchanged.

Usage: python tools/china_class_variant.py OUT_DIR, then
       portfolio backtest OUT_DIR/backtest-multi.toml --out RESULT
"""
from __future__ import annotations

import csv
import io
import shutil
import sys
from pathlib import Path

from portfolio.reference import _round, parse_tag

ROOT = Path(__file__).resolve().parent.parent
SPREAD = {"hsr": (0.66, 1.12), "metro": (0.96, 1.27), "water-tunnel": (0.95, 1.45), "dam": (0.95, 1.45)}
RISK_CLASS = {"hsr": "reference class: hsr", "metro": "reference class: metro",
              "water-tunnel": "reference class: water-tunnel", "dam": "reference class: dam"}


def _rewrite(path: Path, change) -> None:
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    fields = list(rows[0].keys()) if rows else []
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        row = change(row)
        if row is not None:
            writer.writerow(row)
    path.write_text(out.getvalue(), encoding="utf-8")


def _activity(row: dict) -> dict:
    found = parse_tag(row["source"])
    if found and found[0] in SPREAD and found[1] in ("works", "opening") and not row["optimistic"]:
        a, b = SPREAD[found[0]]
        m = float(row["most_likely"])
        row["optimistic"] = f"{min(m, max(1, _round(a * m))):g}"
        row["pessimistic"] = f"{max(m + 1, _round(b * m)):g}"
    return row


def _risk(row: dict) -> dict | None:
    if row["risk_id"].startswith("RC-") and any(t in row["source"] for t in RISK_CLASS.values()):
        return None
    return row


def build(out: Path) -> Path:
    """Write out/data (the changed copy) and out/backtest-multi.toml; return the scenario's path."""
    shutil.copytree(ROOT / "data", out / "data")
    _rewrite(out / "data" / "activities.csv", _activity)
    _rewrite(out / "data" / "risks.csv", _risk)
    scenario = out / "backtest-multi.toml"
    scenario.write_text((ROOT / "scenarios" / "backtest-multi.toml").read_text(encoding="utf-8")
                        .replace('data = "../data"', 'data = "data"'), encoding="utf-8")
    return scenario


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
