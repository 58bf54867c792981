"""Read a run folder (see docs/design.md, "The run folder") into checked tables.

Every file is optional except manifest.json: a ``portfolio schedule`` run has
only the plan files, a ``portfolio simulate`` run only the Monte Carlo files.
A file that is present must have its columns and readable values; otherwise
the problem is raised as :class:`portfolio.errors.InputError` naming the file,
line and column. Each cell is checked by its column's kind (``portfolio.runfiles``): finite numbers, probabilities
from 0 to 1, whole counts, months within the data's years, so that a hand-edited folder is refused, not rendered.

Two views of each CSV file are kept: ``raw`` (every cell as the exact text in
the file, for byte-level comparisons) and the parsed frame (numbers as floats,
months as absolute month numbers in extra ``*_m`` columns).
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from portfolio.errors import InputError, InputProblem
from portfolio.months import format_month, parse_month
from portfolio.runfiles import MC_FILES, MONTH, PLAN_FILES, PORTFOLIO, SPECS, read_value  # noqa: F401  (read from here too)


@dataclass
class Run:
    """One run folder: its manifest and whichever of the data files it has."""

    folder: Path
    manifest: dict
    raw: dict[str, pd.DataFrame] = field(default_factory=dict)  # file -> all cells as text
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # file -> parsed
    raw_bytes: dict[str, bytes] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.tables

    def get(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)

    @property
    def has_plan(self) -> bool:
        return self.has("schedule.csv") or self.has("projects.csv") or self.has("funding.csv")

    @property
    def has_simulation(self) -> bool:
        return self.has("simulation.csv")

    @property
    def scenario(self) -> str:
        return str(self.manifest.get("scenario") or self.folder.name)

    @property
    def optimizer(self) -> dict:
        value = self.manifest.get("optimizer")
        return value if isinstance(value, dict) else {}

    @property
    def simulation_settings(self) -> dict:
        value = self.manifest.get("simulation")
        return value if isinstance(value, dict) else {}

    @property
    def status_date(self) -> int | None:
        """The status date (absolute month) from manifest.json; None for older folders without it."""
        try:
            return parse_month(str(self.manifest["status_date"]))
        except (KeyError, ValueError, TypeError):
            return None

    @property
    def iterations(self) -> int | None:
        value = self.simulation_settings.get("iterations")
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None

    @property
    def draws(self) -> str:
        """The draw scheme of the simulation: runs written before it was recorded drew by position."""
        return str(self.simulation_settings.get("draws") or "position")

    @property
    def scenario_rules(self) -> dict | None:
        """Rule key -> text (scenarios/rules.py); None for a run written before they were recorded."""
        value = self.manifest.get("scenario_rules")
        return value if isinstance(value, dict) else None

    @property
    def input_rows(self) -> dict:
        """Input file -> {row key: hash} (portfolio/inputrows.py); files the manifest does not cover are absent."""
        value = self.manifest.get("input_rows")
        return {k: v for k, v in value.items() if isinstance(v, dict)} if isinstance(value, dict) else {}

    def on_time_bits(self) -> dict[str, np.ndarray] | None:
        """project_id -> per-iteration on-time indicators from iterations.csv; None when the run has no such file."""
        frame = self.get("iterations.csv")
        if frame is None:
            return None
        path = self.folder / "iterations.csv"
        column = SPECS["iterations.csv"]["columns"].index("on_time_bits") + 1
        out = {}
        for i, (pid, n, text) in enumerate(zip(frame["project_id"], frame["iterations"], frame["on_time_bits"])):
            if n != self.iterations:
                raise _problem(path, i + 2, column - 1, f"iterations: {n:g} is not the manifest's {self.iterations}")
            try:
                packed = np.frombuffer(base64.b64decode(text, validate=True), dtype=np.uint8)
            except (binascii.Error, ValueError):
                raise _problem(path, i + 2, column, "on_time_bits: not base64 text") from None
            if len(packed) != -(-int(n) // 8):
                raise _problem(path, i + 2, column, f"on_time_bits: {len(packed)} bytes, expected {-(-int(n) // 8)}")
            out[str(pid)] = np.unpackbits(packed, count=int(n), bitorder="little").astype(bool)
        return out

    def portfolio_row(self) -> pd.Series | None:
        sim = self.get("simulation.csv")
        if sim is None:
            return None
        rows = sim[sim["project_id"] == PORTFOLIO]
        return rows.iloc[0] if len(rows) else None

    def project_rows(self) -> pd.DataFrame | None:
        sim = self.get("simulation.csv")
        return None if sim is None else sim[sim["project_id"] != PORTFOLIO]


def _problem(path: Path, line: int, column: int, message: str) -> InputError:
    return InputError(InputProblem(str(path), line, column, message))


def load_run(folder) -> Run:
    """Read and check a run folder; InputError (one line naming the file) when it is missing or malformed."""
    folder = Path(folder)
    if not folder.is_dir():
        raise _problem(folder, 0, 0, "no such run folder")
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise _problem(manifest_path, 0, 0, "missing: not a run folder (expected manifest.json from portfolio run)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise _problem(manifest_path, 0, 0, "cannot read: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _problem(manifest_path, exc.lineno, exc.colno, f"not valid JSON: {exc.msg}") from None
    if not isinstance(manifest, dict):
        raise _problem(manifest_path, 1, 1, "expected a JSON object")
    run = Run(folder=folder, manifest=manifest)
    for name, spec in SPECS.items():
        path = folder / name
        if path.is_file():
            data = path.read_bytes()
            raw, parsed = _read_table(path, data, spec)
            run.raw[name], run.tables[name] = raw, parsed
            run.raw_bytes[name] = data.removeprefix(b"\xef\xbb\xbf")  # a BOM-only difference is none
    if not run.has("schedule.csv") and not run.has("simulation.csv"):
        raise _problem(folder, 0, 0, "run folder has neither schedule.csv nor simulation.csv")
    if run.has("simulation.csv") and run.iterations is None:
        raise _problem(manifest_path, 0, 0, "simulation.iterations is missing (needed to read simulation.csv)")
    return run


def _read_table(path: Path, data: bytes, spec: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _problem(path, 0, 0, "cannot read: not UTF-8 text") from None
    if not text.strip():
        raise _problem(path, 1, 0, "the file is empty (expected a header row)")
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise _problem(path, 0, 0, f"cannot parse CSV: {str(exc).splitlines()[0]}") from None
    header = list(raw.columns)
    missing = [c for c in spec["columns"] if c not in header]
    if missing:
        raise _problem(path, 1, 0, f"missing column(s): {', '.join(missing)} (expected {','.join(spec['columns'])})")
    parsed = raw.copy()
    optional = spec.get("optional", ())
    for column, kind in spec["kinds"].items():  # each cell by its column's rule (portfolio/runfiles.py)
        col_no = header.index(column) + 1
        values = []
        for i, text_value in enumerate(raw[column]):
            if text_value.strip() == "":
                if column not in optional:
                    raise _problem(path, i + 2, col_no, f"{column}: a value is required")
                values.append(None if kind == MONTH else math.nan)
                continue
            try:
                values.append(read_value(kind, text_value))
            except ValueError as exc:
                raise _problem(path, i + 2, col_no, f"{column}: {exc}") from None
        if kind == MONTH:  # months as absolute month numbers next to their text
            parsed[column + "_m"] = pd.Series(values, index=parsed.index, dtype=object)
        else:
            parsed[column] = values
    key = list(spec["key"])
    dup = raw.duplicated(subset=key, keep="first")
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        keys = "/".join(raw.iloc[i][k] for k in key)
        raise _problem(path, i + 2, 1, f"duplicate row for {keys}")
    return raw, parsed


def month_text(month) -> str:
    """``YYYY-MM`` for an absolute month, an em dash for a missing one."""
    if month is None or (isinstance(month, float) and math.isnan(month)):
        return "—"
    try:
        return format_month(int(month))
    except (TypeError, ValueError):
        return "—"


def cdf_steps(run: Run) -> dict[str, tuple[list[int], list[float]]]:
    """project_id -> (months, p_finished) from distribution.csv, sorted by month."""
    dist = run.get("distribution.csv")
    if dist is None:
        return {}
    out: dict[str, tuple[list[int], list[float]]] = {}
    for pid, group in dist.groupby("project_id", sort=False):
        group = group.sort_values("month_m")
        out[str(pid)] = ([int(m) for m in group["month_m"]], [float(p) for p in group["p_finished"]])
    return out


def cdf_at(steps: tuple[list[int], list[float]], month: int) -> float:
    """P(finished by the end of ``month``) from a step CDF (0 before the first listed month)."""
    months, probs = steps
    value = 0.0
    for m, p in zip(months, probs):
        if m <= month:
            value = p
        else:
            break
    return value
