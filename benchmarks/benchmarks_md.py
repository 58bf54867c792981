"""BENCHMARKS.md is shared by the benchmark scripts: each rewrites only its own ``## `` section."""
from __future__ import annotations

import re
from pathlib import Path


def write_section(path: Path, section: str, text: str) -> None:
    """Replace ``section`` of ``path`` (up to the next ``## `` heading) with ``text``, or append it."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(section)}\s*$.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(old):
        new = pattern.sub(lambda _m: text + "\n", old, count=1)
    else:
        new = old.rstrip("\n") + "\n\n" + text
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")
