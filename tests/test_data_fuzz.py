"""Property: whatever a planner types into the bundled CSV tables, `portfolio validate DIR` answers with
exit 0, 1 or 2 -- never an exception --, every exit-2 line is `file:line:col: message`, and nothing is written.
"""
from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

import cli

DATA = Path(__file__).resolve().parents[1] / "data"
TABLES = {p.name: list(csv.reader(io.StringIO(p.read_text(encoding="utf-8"), newline="")))
          for p in sorted(DATA.glob("*.csv"))}
CELLS = sorted({cell for rows in TABLES.values() for row in rows[1:] for cell in row if len(cell) < 40})
PROBLEM_LINE = re.compile(r"^.+:\d+:\d+: \S.*$")

TRICKY = [
    "", " ", "nan", "NaN", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e309", "99999999999999999999",
    "1e6", "1000001", "1e7", "600", "601", "600.5", "-1", "0", "0.0", "1_000", "１２", "٣",
    "=cmd|' /C calc'!A0", "@SUM(1+1)", "+1", "-3", "\t=1", "a\nb", '"', "'", "\x00", "\ufeff",
    "2021-13", "2021-00", "0001-01", "1899-12", "2200-01", "9999-12", "2021/06", "２０２１-０６", "2021-6",
    "XIY-Р3.T1", "XIY-P3.T1\u200b", "ＸＩＹ-P3.T1", "XIY-P3.T1\u202e", "Χ1", "XIY-P3.T4；XIY-P3.T5",
    "XIY-P3.T3:FS+99999999999999999999", "XIY-P3.T3：SS－6", "XIY-P3.T3:SS-601", "XIY-P3.T3:XX", "XIY-P3.T1;XIY-P3.T1",
    "category:metro", "category:metr", "category：water", "TBM:1e300", "TBM:0", "TBM:nan", "TBM:5", "TBM;TBM",
    "aviation", "avaition", "provincial", "R01", "XIY-P3", "reference class: hsr", "reference class: nope",
]

values = st.one_of(
    st.sampled_from(TRICKY),
    st.sampled_from(CELLS),
    st.text(max_size=12),
    st.integers(min_value=-10**25, max_value=10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
mutation = st.tuples(st.sampled_from(sorted(TABLES)), st.integers(min_value=0), st.integers(min_value=0), values)


def mutated(edits) -> dict[str, str]:
    """The bundled tables with each (file, row, column, value) edit applied to a data cell (never the header)."""
    tables = {name: [list(row) for row in rows] for name, rows in TABLES.items()}
    for name, r, c, value in edits:
        rows = tables[name]
        row = rows[1 + r % (len(rows) - 1)]
        row[c % len(row)] = value
    out = {}
    for name, rows in tables.items():
        buffer = io.StringIO(newline="")
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        out[name] = buffer.getvalue()
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"" for p in sorted(folder.rglob("*"))}


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutation, min_size=1, max_size=3))
def test_validate_survives_any_cell(edits):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "data"
        folder.mkdir()
        for name, text in mutated(edits).items():
            (folder / name).write_text(text, encoding="utf-8")
        before = snapshot(root)
        result = CliRunner().invoke(cli.main, ["validate", str(folder)])
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.exit_code in (0, 1, 2), result.output
        if result.exit_code == 2:
            bad = [line for line in result.output.splitlines() if not PROBLEM_LINE.match(line)]
            assert not bad, result.output
        assert snapshot(root) == before
