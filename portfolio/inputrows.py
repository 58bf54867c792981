"""A short hash of every row of the input tables, by key: what lets `portfolio compare` say which rows changed.

The manifest records ``input_rows``: file -> {key: hash}, where the key is the
row's ID (``year/source`` in funding.csv) and the hash the first 16 hex digits
of the sha256 of its fields (as read: stripped, trailing empty fields dropped).
A file is recorded only when its bytes are still those the run read (the
sha256 in ``inputs``), so the hashes always describe the data of the run.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from portfolio.csvio import parse_table

KEYS = {
    "projects.csv": ("project_id",),
    "activities.csv": ("activity_id",),
    "funding.csv": ("year", "source"),
    "risks.csv": ("risk_id",),
    "resources.csv": ("resource_id",),
}
HEX_DIGITS = 16


def row_hash(values: tuple[str, ...]) -> str:
    values = list(values)
    while values and not values[-1]:
        values.pop()
    return hashlib.sha256("\x1f".join(values).encode("utf-8")).hexdigest()[:HEX_DIGITS]


def _rows(data: bytes, name: str) -> dict[str, str] | None:
    table, _problems = parse_table(data, name)
    columns = KEYS.get(name)
    if table is None or columns is None or any(c not in table.columns for c in columns):
        return None
    return {"/".join(table.value(row, c) for c in columns): row_hash(row.values) for row in table.rows}


def row_hashes(data_dir: str, inputs: dict[str, str]) -> dict[str, dict[str, str]]:
    """file -> {row key: hash} for the input files in ``data_dir`` whose sha256 is still the one in ``inputs``."""
    if not data_dir:
        return {}
    out = {}
    for name, sha in sorted(inputs.items()):
        try:
            data = (Path(data_dir) / name).read_bytes()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() == sha:
            rows = _rows(data, name)
            if rows is not None:
                out[name] = rows
    return out
