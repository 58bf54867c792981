"""Problems found in a planner's input, reported as ``file:line:column: message``."""
from __future__ import annotations

from dataclasses import dataclass


_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")  # what str.splitlines splits on


@dataclass(frozen=True, order=True)
class InputProblem:
    """One thing wrong in the user's input, at ``file:line:column`` (not the optimizer's ``optimize.core.Problem``)."""

    file: str
    line: int  # 1-based; 0 when the problem is the file as a whole
    column: int  # 1-based; 0 when the problem is the whole line or file
    message: str

    def __str__(self) -> str:
        """One line, whatever the message quotes: characters that break lines are shown as <U+XXXX>."""
        text = f"{self.file}:{self.line}:{self.column}: {self.message}"
        return "".join(f"<U+{ord(ch):04X}>" if ch in _LINE_BREAKS else ch for ch in text)


class PortfolioError(Exception):
    """Base of every error the product raises on purpose; the CLI prints ``str(error)`` and exits with
    ``exit_code`` (2: bad input, 1: a finding the user must act on, None: a bug, shown with its traceback)."""

    exit_code: int | None = 2


class InputError(PortfolioError):
    """Bad input from the user: one or more problems, each naming file, line and column."""

    def __init__(self, problems: list[InputProblem] | InputProblem):
        self.problems = [problems] if isinstance(problems, InputProblem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
