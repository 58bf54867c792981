"""How a solve ended. A ``StrEnum``: each member is its own string, so manifests and tables that print a status
read the same words as before (``"optimal"``, ``"feasible"``, ...)."""
from __future__ import annotations

from enum import StrEnum


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"  # every objective stage proven optimal
    FEASIBLE = "feasible"  # a plan, not proven optimal (a limit stopped the proof)
    INFEASIBLE = "infeasible"  # proven: no plan exists
    UNKNOWN = "unknown"  # no plan found and no proof that none exists
