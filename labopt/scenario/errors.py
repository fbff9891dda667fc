"""Problems found in scenario files, reported all at once."""

from __future__ import annotations

from dataclasses import dataclass

from labopt.errors import InputError


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one place: file (or workbook + sheet), row, column, value."""

    source: str  # "districts.csv", or "plan.xlsx, sheet 'districts'"
    message: str
    row: int | None = None  # as numbered in a spreadsheet: the header is row 1
    column: str | None = None
    value: str | None = None
    label: str = "column"  # what ``column`` names: a table's column, or a "setting"

    def __str__(self) -> str:
        where = [self.source]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"{self.label} '{self.column}'")
        value = "" if self.value is None else f" value {self.value!r}:"
        return f"{', '.join(where)}:{value} {self.message}"


class ScenarioError(InputError):
    """A scenario could not be loaded; ``problems`` lists every problem found."""

    MAX_SHOWN = 50

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[: self.MAX_SHOWN])
        more = len(self.problems) - self.MAX_SHOWN
        tail = f"\n  ... and {more} more" if more > 0 else ""
        n = len(self.problems)
        super().__init__(
            f"{n} problem{'s' if n != 1 else ''} in the scenario; nothing was "
            f"loaded:\n{shown}{tail}"
        )
