"""A run folder's CSV tables as one .xlsx workbook, saved so that the same tables give the same bytes.

Part of the run-folder format (``portfolio.runfolder.TABLES_WORKBOOK``), so it sits with it in the lowest layer;
``interop.xlsx`` uses the same bytes for the template and ``portfolio export --format xlsx``.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile

FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def workbook_bytes(book) -> bytes:
    """``book`` saved with fixed document dates and zip timestamps: the same tables give the same bytes."""
    stamp = dt.datetime(2000, 1, 1)
    book.properties.created = stamp
    book.properties.modified = stamp
    raw = io.BytesIO()
    book.save(raw)
    fixed = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            clean = zipfile.ZipInfo(info.filename, FIXED_TIME)
            clean.compress_type = zipfile.ZIP_DEFLATED
            clean.external_attr = 0o644 << 16
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>2000-01-01T00:00:00Z\g<2>", data)
            dst.writestr(clean, data)
    return fixed.getvalue()


def is_workbook_file(head: bytes) -> bool:
    """Whether a file's first bytes are a zip archive's, as every .xlsx workbook's are (an --out it may replace)."""
    return head.startswith(b"PK\x03\x04")


def tables_workbook(files):
    """The CSV ``files`` as one workbook, one sheet per file (numbers as numbers, the header row in bold)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for path in files:
        sheet = book.create_sheet(re.sub(r"[][:*?/\\]", "_", path.stem)[:31])  # what a sheet name may hold
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                sheet.append([_number_or_text(v) if number > 1 else v for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    return book


def _number_or_text(value: str):
    try:
        number = float(value)
    except ValueError:
        return value
    if value.strip().lower() in ("nan", "inf", "-inf", "infinity") or value != value.strip():
        return value
    return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
