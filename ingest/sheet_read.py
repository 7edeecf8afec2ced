"""Reading spreadsheets for the import (ingest/sheets.py): forgiving about encodings, delimiters,
title rows above the header, notes in headers, blank/total/repeated-header rows."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

from core.config import Config
from services import cleaning
from services.inputs import safe_text

SUPPORTED = (".csv", ".xlsx", ".xlsm")
HEADER_SCAN_ROWS = 15
_TOTAL_ROW = re.compile(r"^(合计|总计|小计|total|sum)\b", re.IGNORECASE)


class SheetError(ValueError):
    """The file cannot be read (reason in words)."""


@dataclass
class SheetRow:
    file: str
    sheet: str
    row: int
    values: dict[str, Any]

    @property
    def where(self) -> str:
        sheet = f"!{self.sheet}" if self.sheet else ""
        return f"{self.file}{sheet}#{self.row}"


def read_file(content: bytes, filename: str, config: Config, max_rows: int | None = None) -> list[SheetRow]:
    name = safe_text(PurePath(filename).name) or "file"
    suffix = PurePath(name).suffix.lower()
    max_rows = max_rows or config.ingest.max_import_rows
    if suffix == ".csv":
        tables = [("", _csv_rows(content))]
    elif suffix in (".xlsx", ".xlsm"):
        tables = _xlsx_tables(content, max_rows)
    else:
        raise SheetError(f"unsupported file type {suffix or '(none)'}; send CSV or XLSX")
    table = cleaning.synonyms(config)
    out: list[SheetRow] = []
    for sheet, raw_rows in tables:
        # Cells as the rest of the intake sees text: no NUL/control characters or lone surrogates, NFKC.
        raw_rows = [[safe_text(c) if isinstance(c, str) else c for c in row] for row in raw_rows]
        out.extend(_rows_of(name, safe_text(sheet), raw_rows, table))
        if len(out) > max_rows:
            raise SheetError(f"more than {max_rows} rows; split the file")
    if not out:
        raise SheetError("no rows under a recognisable header (e.g. 姓名, 电话, 公司)")
    return out


def _csv_rows(content: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError("the CSV is neither UTF-8 nor GB18030 text")
    if "\x00" in text:
        raise SheetError("this is not a text CSV file")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel
    try:
        return [row for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error as exc:
        raise SheetError(f"the CSV could not be parsed: {exc}") from None


MAX_COLUMNS = 60


def _xlsx_tables(content: bytes, max_rows: int) -> list[tuple[str, list[list[Any]]]]:
    """Every visible worksheet's rows, read lazily and capped (a small file may unpack to a huge sheet)."""
    import zipfile

    from openpyxl import load_workbook
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SheetError(f"not a readable XLSX workbook ({type(exc).__name__})") from None
    tables = []
    try:
        for sheet in workbook.worksheets:
            if getattr(sheet, "sheet_state", "visible") != "visible":
                continue
            rows: list[list[Any]] = []
            for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
                rows.append(list(row))
                if len(rows) > max_rows + HEADER_SCAN_ROWS + 1000:
                    raise SheetError(f"more than {max_rows} rows; split the file")
            tables.append((sheet.title, rows))
    finally:
        workbook.close()
    return tables


def _header_row(raw_rows: list[list[Any]], table: dict[str, str]) -> tuple[int, list[str | None]] | None:
    for index, row in enumerate(raw_rows[:HEADER_SCAN_ROWS]):
        fields = [table.get(cleaning.header_key(cell)) if cell not in (None, "") else None for cell in row]
        if len({f for f in fields if f}) >= 2:
            return index, fields
    return None


def _rows_of(name: str, sheet: str, raw_rows: list[list[Any]], table: dict[str, str]) -> list[SheetRow]:
    found = _header_row(raw_rows, table)
    if found is None:
        return []
    header_index, fields = found
    header_cells = [str(c) for c in raw_rows[header_index]]
    out = []
    for offset, row in enumerate(raw_rows[header_index + 1:], start=header_index + 2):
        cells = [c for c in row if not cleaning.is_blank(c)]
        if not cells:
            continue
        texts = [cleaning.norm_text(c) for c in cells]
        if _TOTAL_ROW.match(texts[0]) or all(str(c) in header_cells for c in cells):
            continue  # a totals row, or the header repeated (e.g. every page of a printout)
        values: dict[str, Any] = {}
        for column, value in enumerate(row):
            if column < len(fields) and fields[column] and not cleaning.is_blank(value):
                values.setdefault(header_cells[column], value)
        if values:
            out.append(SheetRow(name, sheet, offset, values))
    return out


def _json_safe(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (int, float, str)) or value is None:
        return value
    return str(value)


def rows_to_json(rows: list[SheetRow]) -> list[dict[str, Any]]:
    return [{"file": r.file, "sheet": r.sheet, "row": r.row, "values": {k: _json_safe(v) for k, v in r.values.items()}}
            for r in rows]


def rows_from_json(data: list[dict[str, Any]]) -> list[SheetRow]:
    return [SheetRow(d["file"], d["sheet"], d["row"], d["values"]) for d in data]
