"""Spreadsheet (.xlsx) exports: rows of any columns, in constant memory, cells as safe as CSV's.

``XlsxTable`` is what every spreadsheet export writes through (risk paths now; changes and
scorecards can bring their own columns): a bold header row kept in view, one row in memory
at a time (xlsxwriter's constant_memory mode), numbers as numbers, and all text as text,
never a formula or a link, with what a spreadsheet would read as a formula prefixed as the
CSV prefixes it (visualize.cells.safe_cell). Past Excel's 1,048,576 rows a worksheet, rows
go on in a next worksheet under the same header.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import xlsxwriter
from xlsxwriter.exceptions import XlsxWriterException

from laborgraph.visualize.cells import safe_cell

MAX_ROWS = 1_048_576  # rows an Excel worksheet holds, its header included


class XlsxTable:
    def __init__(self, target: Path, columns: Sequence[str], sheet: str, *, max_rows: int = MAX_ROWS) -> None:
        self._book = xlsxwriter.Workbook(
            str(target),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self._header = self._book.add_format({"bold": True})
        self._columns = list(columns)
        self._name = sheet
        self._max_rows = max_rows
        self._sheets = 0
        self._row = max_rows  # the first write opens the first worksheet

    def write(self, row: Sequence[object]) -> None:
        """One row, its cells in the order of the columns; None leaves a cell empty."""
        if self._row == self._max_rows:
            self._next_sheet()
        sheet, n = self._sheet, self._row
        for column, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(n, column, value)
            elif isinstance(value, int | float):
                sheet.write_number(n, column, value)
            else:
                sheet.write_string(n, column, str(safe_cell(str(value))))
        self._row += 1

    def finalize(self) -> None:
        if self._sheets == 0:
            self._next_sheet()  # no rows: the header alone
        try:
            self._book.close()
        except XlsxWriterException as exc:  # it wraps the OSError of writing the file
            raise OSError(str(exc)) from exc

    def _next_sheet(self) -> None:
        self._sheets += 1
        name = self._name if self._sheets == 1 else f"{self._name} {self._sheets}"
        self._sheet = self._book.add_worksheet(name)
        self._sheet.freeze_panes(1, 0)
        self._sheet.write_row(0, 0, self._columns, self._header)
        self._row = 1
