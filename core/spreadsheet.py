"""What every all-or-nothing spreadsheet import reports: each bad row with its row number,
column and reason, and the counts of what it did."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RowProblem:
    row: int  # the spreadsheet's own row number (the header is row 1)
    column: str  # the column header, or "" for the whole row/file
    reason: str


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})


class CellError(Exception):
    """A cell reader's refusal; its message is the reason shown for that row and column."""
