"""Run folders are written whole or not at all: build beside the target, then rename."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from portfolio.months import format_month
from scenarios.rules import scenario_rules

from .inputrows import row_hashes

PACKAGES = ("portfolio", "ortools", "simpy", "numpy", "pandas", "scipy", "click")


@contextlib.contextmanager
def atomic_folder(out: str | os.PathLike):
    """Yield a temporary folder beside ``out``; on success it replaces ``out``, on any error it is removed."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_csv(df, path: Path) -> None:
    """CSV bytes that depend only on the data: UTF-8, LF line ends, no index; formula-like text neutralised."""
    text = [c for c in df.columns if df[c].dtype.kind == "O"]  # object or string columns
    if text:
        df = df.copy()
        for column in text:
            df[column] = df[column].map(neutralise_formula)
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralise_formula(cell):
    """A text cell that a spreadsheet would run as a formula gets a leading ' (OWASP, CSV injection);
    numbers written as text (-3, -0.50) and every other value are kept."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def sha256_of(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def write_manifest(folder: Path, settings, portfolio, **sections) -> dict:
    """manifest.json: the scenario, hashes of every input, versions, and what each stage reports."""
    path = Path(folder) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    manifest.update(
        {
            "scenario": settings.name,
            "scenario_file": Path(settings.scenario_file).name if settings.scenario_file else "",
            "inputs": dict(portfolio.inputs),
            "input_rows": row_hashes(settings.data_dir, dict(portfolio.inputs)),
            "scenario_rules": scenario_rules(settings),
            "status_date": format_month(settings.status_date),
            "versions": package_versions(),
            "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    )
    manifest.update(sections)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return manifest
