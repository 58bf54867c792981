"""What an engine returns for a range of iterations, and the driving paths traced from it.

Shared by every engine: an engine records, per iteration and activity, the start,
the end and the links that drove them (docs/simulation.md, "What drives a
finish"); ``driving_paths`` turns the drivers into the on-path marks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import SimModel

NO_LINK = -1


@dataclass(frozen=True, eq=False)
class Outcomes:
    """What happened in each iteration (rows) to each activity (columns)."""

    i0: int
    start: np.ndarray  # t of the start
    end: np.ndarray  # t of the end
    on_path: np.ndarray  # bool: on its own project's driving path
    start_driver: np.ndarray  # link index that drove the start, or -1
    end_driver: np.ndarray  # link index (FF/SF) that held the end, or -1


def driving_paths(model: SimModel, end: np.ndarray, start_driver: np.ndarray, end_driver: np.ndarray) -> np.ndarray:
    """on_path per iteration and activity: traced back from each project's last-ending activity."""
    rows, n = end.shape
    on_path = np.zeros((rows, n), dtype=bool)
    pred = model.link_pred.tolist()
    project_of = model.project_of.tolist()
    # Last-ending activity of each project in each iteration (argmax: the first listed among ties).
    last = [(p, members[np.argmax(end[:, members], axis=1)].tolist())
            for p, members in enumerate(model.members) if len(members)]
    sd_rows, ed_rows = start_driver.tolist(), end_driver.tolist()
    for q in range(rows):
        sd, ed, mark = sd_rows[q], ed_rows[q], on_path[q]
        for p, lasts in last:
            cur = lasts[q]
            while True:
                if project_of[cur] == p:
                    mark[cur] = True
                li = ed[cur] if ed[cur] != NO_LINK else sd[cur]
                if li == NO_LINK:
                    break
                cur = pred[li]
    return on_path
