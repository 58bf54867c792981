"""Markdown tables that line up in the rendered page and in a monospace editor."""
from __future__ import annotations

import unicodedata


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def markdown_table(header: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> str:
    """A pipe table padded so that it also lines up in a monospace editor (CJK characters count double)."""
    cells = [[str(c).replace("|", "\\|").replace("\n", " ") for c in row] for row in [header] + rows]
    widths = [max(3, max(_width(row[i]) for row in cells)) for i in range(len(header))]

    def line(row):
        out = []
        for i, c in enumerate(row):
            pad = " " * (widths[i] - _width(c))
            out.append(pad + c if i in right else c + pad)
        return "| " + " | ".join(out) + " |"

    rule = "| " + " | ".join(("-" * (w - 1) + ":") if i in right else "-" * w for i, w in enumerate(widths)) + " |"
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])
