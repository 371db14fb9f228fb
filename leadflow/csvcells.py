"""Cells of the CSV files leadflow writes (exports, error reports): data from anonymous forms must
not become a spreadsheet formula (OWASP "CSV injection")."""

from __future__ import annotations

import unicodedata
from typing import Any

# What makes a spreadsheet read a cell as a formula, also in its full-width forms (after NFKC).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would evaluate is prefixed with `'`; anything else as is."""
    if isinstance(value, str) and unicodedata.normalize("NFKC", value[:1]).startswith(
        FORMULA_START
    ):
        return "'" + value
    return value


def safe_row(values: list[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]
