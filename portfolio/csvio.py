"""Read a planner's CSV file robustly: encoding detection, physical line numbers, clear problems.

Encodings, in this order: UTF-8 with a byte-order mark (the mark is dropped),
UTF-8, then GB18030 (a superset of GBK, what Excel writes on Chinese Windows).
Rows carry the physical line on which they start (the header is line 1), so a
quoted field that spans lines does not shift the numbers of later rows. Field
values and header names are stripped of surrounding spaces, and header names are
normalised as ids are (``ids.normalize``: NFKC, no invisible characters); rows whose
fields are all blank are skipped.

Only regular files are read: a named pipe, a device or a folder in place of a CSV
file is a problem, found without waiting on it (the file is opened non-blocking
and checked before any read).
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import stat
from dataclasses import dataclass

from .errors import InputProblem
from .ids import normalize

BOM = b"\xef\xbb\xbf"

CANNOT_DECODE = "cannot read: not UTF-8 or GB18030 text"
EMPTY_FILE = "the file is empty (expected a header row)"
UNCLOSED_QUOTE = 'a quoted field that starts on this line is never closed (a closing " is missing)'


@dataclass(frozen=True)
class Row:
    line: int  # physical line on which the row starts
    values: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    file: str  # the path as shown in problems
    header: tuple[str, ...]
    columns: dict[str, int]  # header name -> 1-based column number (first occurrence)
    rows: tuple[Row, ...]
    sha256: str  # of the raw bytes
    encoding: str  # "utf-8-sig", "utf-8" or "gb18030"

    def value(self, row: Row, name: str) -> str:
        """The stripped value of column ``name`` in ``row``; "" when the column or the field is absent."""
        col = self.columns.get(name)
        if col is None or col > len(row.values):
            return ""
        return row.values[col - 1]

    def column(self, name: str) -> int:
        """1-based column number of ``name``, 0 when the file has no such column."""
        return self.columns.get(name, 0)


def decode(data: bytes) -> tuple[str, str] | None:
    """(text, encoding name) of raw bytes, or None when they are neither UTF-8 nor GB18030."""
    if data.startswith(BOM):
        try:
            return data[len(BOM):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    return None


def parse_table(data: bytes, file: str) -> tuple[Table | None, list[InputProblem]]:
    """Parse raw CSV bytes; ``file`` is the name used in problems. None when the file is unusable."""
    decoded = decode(data)
    if decoded is None:
        return None, [InputProblem(file, 0, 0, CANNOT_DECODE)]
    text, encoding = decoded
    problems: list[InputProblem] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[Row] = []
    last_line = 0
    try:
        for record in reader:
            line = last_line + 1
            last_line = reader.line_num
            values = [v.strip() for v in record]
            if not any(values):
                continue
            if header is None:
                header = [normalize(h) for h in values]  # full-width or with a stray zero-width space: same name
                continue
            rows.append(Row(line, tuple(values)))
    except csv.Error as exc:
        line = last_line + 1
        message = UNCLOSED_QUOTE if "unexpected end of data" in str(exc) else f"cannot read: bad CSV quoting ({exc})"
        return None, [InputProblem(file, line, 0, message)]
    if header is None:
        return None, [InputProblem(file, 1, 0, EMPTY_FILE)]

    columns: dict[str, int] = {}
    for number, name in enumerate(header, start=1):
        if not name:
            continue
        if name in columns:
            problems.append(InputProblem(file, 1, number, f'duplicate column "{name}" (also column {columns[name]})'))
        else:
            columns[name] = number
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    for row in rows:
        extra = [k for k in range(width, len(row.values)) if row.values[k]]
        if extra:
            problems.append(
                InputProblem(
                    file,
                    row.line,
                    extra[0] + 1,
                    f"expected at most {width} fields as in the header, got {max(extra) + 1} "
                    "(put a field that contains a comma in double quotes)",
                )
            )
    table = Table(file, tuple(header), columns, tuple(rows), hashlib.sha256(data).hexdigest(), encoding)
    return table, problems


def read_table(path: str, file: str | None = None) -> tuple[Table | None, list[InputProblem]]:
    """Read and parse the CSV file at ``path`` (shown as ``file`` in problems, default the path)."""
    file = path if file is None else file
    try:
        data = read_regular_file(path)
    except NotRegularFile as exc:
        return None, [InputProblem(file, 0, 0, f"not a regular file ({exc.kind}; expected a CSV file)")]
    except OSError as exc:
        return None, [InputProblem(file, 0, 0, f"cannot read: {exc.strerror or exc}")]
    return parse_table(data, file)


class NotRegularFile(OSError):
    """A path that names a pipe, device, socket or folder, where a file's bytes were expected."""

    def __init__(self, kind: str):
        super().__init__(f"not a regular file ({kind})")
        self.kind = kind


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def read_regular_file(path: str) -> bytes:
    """The bytes of the regular file at ``path``; opened non-blocking so that a FIFO cannot hang the read."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(next((kind for test, kind in _KINDS if test(mode)), "not a file"))
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read()
    finally:
        os.close(fd)
