"""What ``portfolio validate`` prints for good data: counts, then each project's CPM finish against its deadline."""
from __future__ import annotations

import math
import unicodedata

from .cpm import cpm
from .distributions import whole_months
from .model import Portfolio
from .months import format_month
from .network import build_network


def _plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


def display_width(text: str) -> int:
    """Terminal columns of ``text``: CJK wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def lateness(finish: int, deadline: int) -> str:
    """"on time", or "late by N months" (finish and deadline are absolute months)."""
    late = finish - deadline
    return "on time" if late <= 0 else f"late by {_plural(late, 'month')}"


def validation_summary(portfolio: Portfolio, settings) -> str:
    """Counts of what was read, then one line per project: finish by CPM on whole-month most-likely durations."""
    links = sum(len(a.predecessors) for a in portfolio.activities)
    counts = ", ".join(
        [
            _plural(len(portfolio.projects), "project"),
            _plural(len(portfolio.activities), "activity", "activities"),
            _plural(links, "link"),
            _plural(len(portfolio.risks), "risk"),
            _plural(len(portfolio.funding), "funding row"),
            _plural(len(portfolio.resources), "resource"),
        ]
    )
    lines = [
        f"OK: {counts}",
        f"Status date {format_month(settings.status_date)}, default deadline {format_month(settings.deadline)}. "
        "Finish by CPM on most-likely whole-month durations, without funding or resource limits:",
        "",
    ]
    network = build_network(portfolio, settings.status_date, settings.deadline)
    durations = [whole_months(a.optimistic, a.most_likely, a.pessimistic) for a in portfolio.activities]
    result = cpm(network, durations)
    table = [("project", "name", "finish", "deadline", "status")]
    on_time = 0
    for k, project in enumerate(portfolio.projects):
        deadline = int(network.deadline[k])
        end = result.project_end[k]
        if math.isfinite(end):
            finish = network.finish_month(end)
            status = lateness(finish, deadline)
            on_time += finish <= deadline
            table.append((project.project_id, project.name_zh, format_month(finish), format_month(deadline), status))
        else:
            table.append((project.project_id, project.name_zh, "-", format_month(deadline), "no activities"))
    widths = [max(display_width(row[c]) for row in table) for c in range(len(table[0]))]
    for row in table:
        lines.append("  ".join(_pad(cell, w) for cell, w in zip(row, widths)).rstrip())
    lines += ["", f"{on_time} of {_plural(len(portfolio.projects), 'project')} on time."]
    return "\n".join(lines)
