"""The comparison's Markdown as one self-contained HTML page (no scripts, no external files).

The Markdown is what report.compare writes: headings, paragraphs, "- " lists
and pipe tables with `code` and **bold**; this renders exactly that subset, so
the page carries the same words and figures as the Markdown. The charts of
report.comparecharts (inline SVG, text drawn as outlines) follow the summary.
"""
from __future__ import annotations

import html
import re

STYLE = """
body { font-family: "PortfolioCJK", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", system-ui, sans-serif;
       margin: 2em auto; max-width: 80em; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafafa; }
code { font-size: 0.9em; background: #f3f3f3; padding: 0 0.2em; }
figure { margin: 0.6em 0 1.2em; } svg.chart { display: block; width: 100%; max-width: 72em; height: auto; }
.how { color: #555; max-width: 60em; }
@page { size: A4; margin: 12mm 10mm; }
@media print { body { margin: 0; max-width: none; font-size: 10.5pt; } figure, tr { break-inside: avoid; }
               h2 { break-after: avoid; } }
"""

_CODE = re.compile(r"`([^`]*)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def inline(text: str) -> str:
    """Escaped text with `code` and **bold** as HTML."""
    out, last = [], 0
    for match in _CODE.finditer(text):
        out.append(_BOLD.sub(r"<strong>\1</strong>", html.escape(text[last:match.start()])))
        out.append(f"<code>{html.escape(match.group(1))}</code>")
        last = match.end()
    out.append(_BOLD.sub(r"<strong>\1</strong>", html.escape(text[last:])))
    return "".join(out)


def _cells(line: str) -> list[str]:
    """The cells of a pipe-table line (``\\|`` is a literal bar)."""
    inner = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def _table(lines: list[str]) -> list[str]:
    header, rule, rows = _cells(lines[0]), _cells(lines[1]), [_cells(x) for x in lines[2:]]
    right = [c.endswith(":") for c in rule]
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{inline(c)}</th>" for c in header) + "</tr></thead>", "<tbody>"]
    for row in rows:
        cells = "".join(f'<td class="num">{inline(c)}</td>' if i < len(right) and right[i] else f"<td>{inline(c)}</td>"
                        for i, c in enumerate(row))
        out.append(f"<tr>{cells}</tr>")
    return out + ["</tbody>", "</table>"]


def _blocks(lines: list[str]) -> list[tuple[str, list[str]]]:
    """Consecutive lines grouped as ("h1" | "h2" | "table" | "list" | "p", lines); blank lines end a block."""
    blocks: list[tuple[str, list[str]]] = []
    for line in lines:
        kind = ("h2" if line.startswith("## ") else "h1" if line.startswith("# ") else "table" if line.startswith("|")
                else "list" if line.startswith("- ") else "" if not line.strip() else "p")
        if not kind:
            blocks.append(("", []))
        elif kind in ("h1", "h2") or not blocks or blocks[-1][0] != kind:
            blocks.append((kind, [line]))
        else:
            blocks[-1][1].append(line)
    return [b for b in blocks if b[0]]


def chart_sections(charts: dict[str, str]) -> list[str]:
    """Each chart under its heading, with a sentence on how to read it."""
    from .charts import inline_svg
    from .comparecharts import CHART_TITLES, HOW_TO_READ

    out = []
    for k, name in enumerate(n for n in CHART_TITLES if n in charts):
        title = CHART_TITLES[name]
        out += [f'<h2 id="section-{name}">{html.escape(title)}</h2>',
                f'<p class="how"><strong>How to read this:</strong> {html.escape(HOW_TO_READ[name])}</p>',
                f"<figure>{inline_svg(charts[name], f'k{k + 1}', f'chart-{name}', title)}</figure>"]
    return out


def markdown_to_html(text: str, charts: dict[str, str] | None = None) -> str:
    """The page; ``charts`` (name -> SVG, report.comparecharts) go after the Summary section."""
    lines = text.splitlines()
    title = next((x[2:] for x in lines if x.startswith("# ")), "Comparison")
    body = []
    pending = chart_sections(charts) if charts else []
    in_summary = False
    for kind, block in _blocks(lines):
        if kind in ("h1", "h2") and in_summary and pending:
            body += pending
            pending = []
        if kind == "h2":
            in_summary = block[0] == "## Summary"
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{inline(block[0].split(' ', 1)[1])}</{kind}>")
        elif kind == "table":
            body += _table(block)
        elif kind == "list":
            body += ["<ul>"] + [f"<li>{inline(x[2:])}</li>" for x in block] + ["</ul>"]
        else:
            body.append(f"<p>{inline(' '.join(block))}</p>")
    body += pending  # no section after the summary
    from .fonts import embedded_font_css
    from .write import _visible_text

    css = STYLE + embedded_font_css(_visible_text("\n".join(body) + title))  # the Chinese names, even offline
    return "\n".join(['<!DOCTYPE html>', '<html lang="en">', "<head>", '<meta charset="utf-8">',
                      f"<title>{html.escape(title)}</title>", f"<style>{css}</style>", "</head>", "<body>",
                      *body, "</body>", "</html>"]) + "\n"
