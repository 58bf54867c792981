"""Planners' files in and out: P6 XER, MS Project XML (MSPDI) and, with MPXJ, binary .mpp, to the data folder and back (docs/interop.md)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from portfolio.load import FIRST_YEAR, LAST_YEAR

from .schedule import ImportedSchedule, ImportProblem

FORMATS = ("xer", "mspdi", "mpp")


def detect_format(path, allow_xlsx: bool = False) -> str:
    """``xer`` or ``mspdi`` (or ``xlsx`` when allowed) from the file's first bytes (the extension can lie)."""
    with open(path, "rb") as handle:
        head = handle.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    if allow_xlsx and head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # an OLE compound file: binary MS Project (read with MPXJ)
        return "mpp"
    if head.startswith(b"ERMHDR"):
        return "xer"
    if head.startswith(b"<") and b"schemas.microsoft.com/project" in Path(path).read_bytes()[:4096]:
        return "mspdi"
    raise ImportProblem(f"{Path(path).name}:1:1: not a P6 XER (ERMHDR...) or MS Project XML file")


def read_schedule(path, fmt: str | None = None, projects_from: str = "project",
                  three_point: tuple[str, str] | None = None, encoding: str | None = None,
                  resource_limits: bool = False) -> ImportedSchedule:
    """The schedule in ``path`` (format detected unless given); a file that cannot be read as one raises
    ImportProblem naming it, whatever the fault (a malformed number, date, calendar or XML)."""
    fmt = fmt or detect_format(path)
    try:
        schedule = _read(path, fmt, projects_from, three_point, encoding, resource_limits)
    except (ValueError, ArithmeticError, IndexError, KeyError, ET.ParseError) as exc:
        # UnicodeDecodeError is a ValueError too; each reader names the faults it expects, this catches the rest
        raise ImportProblem(f"{Path(path).name}: cannot read it as {fmt.upper()}: {exc}") from None
    for what, month in (("data date", schedule.status_date), ("last finish", schedule.finish)):
        year = month.rsplit("-", 1)[0]
        if month and not (year.isdigit() and FIRST_YEAR <= int(year) <= LAST_YEAR):
            raise ImportProblem(f"{Path(path).name}: its {what} {month} is outside {FIRST_YEAR}-01 to {LAST_YEAR}-12")
    return schedule


def _read(path, fmt, projects_from, three_point, encoding, resource_limits) -> ImportedSchedule:
    if fmt == "xer":
        from .xer import read_xer
        return read_xer(path, projects_from, three_point, encoding, resource_limits)
    from .mspdi import read_mspdi
    if fmt == "mpp":
        from .mpp import mpp_to_mspdi
        schedule = read_mspdi(path, three_point, resource_limits, data=mpp_to_mspdi(path))
        schedule.format = "MPP"  # read through MSPDI, but the planner's file (and its sources) is the .mpp
        return schedule
    return read_mspdi(path, three_point, resource_limits)
