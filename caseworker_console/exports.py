"""Tables as CSV and XLSX files, every cell safe from formula injection, and the encrypted archive
a full export is delivered in.

Formula injection: text starting with = + - @ tab or CR is a formula to a spreadsheet that opens
a CSV, so in CSV such a cell gets a leading apostrophe (OWASP's advice). In XLSX every text cell is
written as a string cell (never a formula, whatever it starts with), and one with such a start
also carries the "quote prefix" style, so Excel and LibreOffice keep it text even when someone
edits it; its value stays exactly what was stored (a phone's "+994…" reads as it should).

The archive is a ZIP with WinZip AES-256 encryption (pyzipper, the maintained fork of the standard
library's zipfile with AES): 7-Zip, WinZip, Keka and `7z x` open it with the passphrase, and a
spreadsheet user needs nothing else. The passphrase is random, shown once, never stored.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

import pyzipper
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from programme.figures import FORMULA_STARTS, neutralised

Table = Sequence[Sequence[object]]

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_TYPE = "application/zip"
FORMATS = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}
# Long enough to resist guessing offline (about 120 bits), short enough to type from the screen.
PASSPHRASE_BYTES = 15


def _cells(row: Iterable[object]) -> list[object]:
    return ["" if value is None else neutralised(value) for value in row]


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in table:
        writer.writerow(_cells(row))
    # The byte-order mark makes Excel read the file as UTF-8 (names in Cyrillic, Arabic script).
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx_cell(worksheet: Any, value: object) -> object:
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(worksheet, value=value)
    # openpyxl reads text starting with "=" as a formula: it is set back to a plain string.
    cell.data_type = "s"
    if value.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell


def to_xlsx(table: Table, *, sheet: str) -> bytes:
    book = Workbook(write_only=True)
    worksheet = book.create_sheet(title=sheet[:31])
    for row in table:
        worksheet.append([_xlsx_cell(worksheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(table: Table, *, file_format: str, sheet: str) -> bytes:
    return to_xlsx(table, sheet=sheet) if file_format == "xlsx" else to_csv(table)


def new_passphrase() -> str:
    return secrets.token_urlsafe(PASSPHRASE_BYTES)


def encrypted_archive(files: dict[str, bytes], *, passphrase: str) -> bytes:
    out = io.BytesIO()
    with pyzipper.AESZipFile(
        out, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(passphrase.encode("ascii"))
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()
