"""Planners' files in and out: P6 XER, MS Project XML (MSPDI) and, with MPXJ, binary .mpp, to the data folder and back (docs/interop.md)."""
from __future__ import annotations

from pathlib import Path

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
    """The schedule in ``path`` (format detected unless given)."""
    fmt = fmt or detect_format(path)
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
