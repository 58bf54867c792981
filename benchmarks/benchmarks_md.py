"""What the benchmark scripts share: BENCHMARKS.md, where each rewrites only its own ``## `` section, and the
command-line pieces that put a section there."""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def write_section(path: Path, section: str, text: str) -> None:
    """Replace ``section`` of ``path`` (up to the next ``## `` heading) with ``text``, or append it."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(section)}\s*$.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(old):
        new = pattern.sub(lambda _m: text + "\n", old, count=1)
    else:
        new = old.rstrip("\n") + "\n\n" + text
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def publish(text: str, section: str, path: Path, print_only: bool = False) -> None:
    """Print the section (``--no-write``) or write it into ``path``, saying so on stderr."""
    if print_only:
        print(text)
    else:
        write_section(path, section, text)
        print(f"wrote the {section.removeprefix('## ')} section of {path}", file=sys.stderr)


def argument_parser(doc: str) -> argparse.ArgumentParser:
    """A parser whose --help shows the script's docstring as written (its usage examples keep their lines)."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def add_output_options(ap: argparse.ArgumentParser) -> None:
    """--out and --no-write: where the section goes, or print it instead."""
    ap.add_argument("--out", type=Path, default=BENCHMARKS_MD)
    ap.add_argument("--no-write", action="store_true", help="print the section instead of writing it")


def load_average() -> float:
    """The 1-minute load average (NaN where the system keeps none): a shared machine slows every timing."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def table(header: list[str], rows) -> list[str]:
    """A Markdown table: the header, its rule and a line per row of cells (an empty cell stays one space)."""
    def line(cells) -> str:
        return "|" + "".join(f" {c} |" if c != "" else " |" for c in cells)

    return [line(header), "|" + "---|" * len(header), *(line(r) for r in rows)]


def command_lines(command: str) -> list[str]:
    """The closing lines of a section: the command that measured it, so that it can be run again."""
    return ["", f"Command: `{command}`", ""]
