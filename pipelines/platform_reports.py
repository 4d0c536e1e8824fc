"""Platform daily reports: CSV of what each platform says it received -> raw.platform_reports."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import dlt
from dlt.extract.items import DataItemWithMeta

from pipelines.files import InputError, csv_records
from pipelines.rejects import (
    Parsed,
    Position,
    Rejected,
    RejectSummary,
    Tally,
    emit,
    keep_last,
    names,
    quote,
)
from pipelines.seeds import Platform, known_platforms
from pipelines.tables import DATE, DOUBLE, INT64, SOURCE_COLUMNS, TEXT, Column, Table
from signal_audit_core.config import REQUIRED_REPORT_COLUMNS as REQUIRED_EXPORT_COLUMNS
from signal_audit_core.config import ReportExport

PLATFORM_REPORTS = Table(
    "platform_reports",
    primary_key=("report_date", "platform", "pixel_id", "event_name"),
    columns=(
        Column("report_date", DATE, nullable=False),
        Column("platform", TEXT, nullable=False),
        Column("pixel_id", TEXT, nullable=False),
        Column("event_name", TEXT, nullable=False),
        Column("events_received", INT64, nullable=False),
        Column("events_deduplicated", INT64),
        Column("events_matched", INT64),
        Column("match_quality_score", DOUBLE),
        *SOURCE_COLUMNS,
    ),
)

REQUIRED_COLUMNS = ("date", "platform", "event_name", "events_received")
OPTIONAL_COLUMNS = ("pixel_id", "events_deduplicated", "events_matched", "match_quality_score")
_INTEGER = re.compile(r"[+-]?\d+")
# a row of a file as read (its values, when it had the right width) and as judged
Read = tuple[Mapping[str, str] | None, Parsed[tuple[Any, ...]] | Rejected]
_BIGINT_MAX = 2**63 - 1


@dlt.resource(name="platform_reports")
def platform_reports(
    files: Sequence[Path],
    platforms: Mapping[str, Platform],
    tally: Tally,
    exports: Sequence[tuple[ReportExport, Sequence[Path]]] = (),
) -> Iterator[DataItemWithMeta]:
    """Report CSVs in our format, then platforms' own exports; a key seen again later wins."""
    def read() -> Iterator[Parsed[tuple[Any, ...]] | Rejected]:
        yield from read_reports(files, platforms)
        for export, paths in exports:
            yield from read_export(export, paths, platforms)

    rows = (item if isinstance(item, Rejected) else item.value for item in keep_last(read))
    yield from emit("platform_reports", PLATFORM_REPORTS, rows, tally)


def read_reports(
    files: Sequence[Path], platforms: Mapping[str, Platform]
) -> Iterator[Parsed[tuple[Any, ...]] | Rejected]:
    for path in files:
        columns = partial(_report_columns, path)

        def parsed(path: Path = path, columns: Callable[[list[str]], Mapping[str, str]] = columns) -> Iterator[Read]:
            for line, values in csv_records(path, columns):
                position = Position(str(path), line)
                if isinstance(values, str):
                    yield None, Rejected(position, values)
                else:
                    yield values, parse_report(values, position, platforms)

        yield from _whole_file(parsed(), f"platform report {path}", "check that each column holds what its name says")


def _whole_file(items: Iterable[Read], what: str, setting: str) -> Iterator[Parsed[tuple[Any, ...]] | Rejected]:
    """The rows of one file; InputError after them when the file had rows and every one was
    rejected (`keep_last` reads every file before it gives out the first row, so nothing of
    such a load lands)."""
    summary = RejectSummary()
    valid = False
    for values, item in items:
        if isinstance(item, Rejected):
            summary.note(item.reason, values)
        else:
            valid = True
        yield item
    if not valid and summary.causes:
        raise InputError(summary.all_rejected(what, setting))


def read_export(
    export: ReportExport, files: Sequence[Path], platforms: Mapping[str, Platform]
) -> Iterator[Parsed[tuple[Any, ...]] | Rejected]:
    """A platform's own export (TikTok or Snap Events Manager) through the user's column mapping.

    Exports are written for people: counts may carry thousands separators (`1,234`), a dash
    means no value, and dates may follow `date_format`. The platform is the export's setting.
    """
    for path in files:
        columns = partial(_export_columns, path, export)

        def parsed(path: Path = path, columns: Callable[[list[str]], Mapping[str, str]] = columns) -> Iterator[Read]:
            for line, values in csv_records(path, columns):
                position = Position(str(path), line)
                if isinstance(values, str):
                    yield None, Rejected(position, values)
                    continue
                cleaned = {name: _export_value(text) for name, text in values.items()}
                if export.date_format and cleaned["date"]:
                    try:
                        day = dt.datetime.strptime(cleaned["date"], export.date_format).date()
                    except ValueError:
                        yield cleaned, Rejected(position, f"date {quote(cleaned['date'])} does not match "
                                                          f"date_format '{export.date_format}'")
                        continue
                    cleaned["date"] = day.isoformat()
                cleaned["platform"] = export.platform
                if not cleaned.get("pixel_id"):
                    cleaned["pixel_id"] = export.pixel_id or ""
                yield cleaned, parse_report(cleaned, position, platforms)

        yield from _whole_file(parsed(), f"{export.platform} export {path}",
                               "check platform_reports.exports[].columns in signal_audit.yml")


_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_NO_VALUE = frozenset({"-", "--", "n/a", "na"})


def _export_value(text: str) -> str:
    text = text.strip()
    if text.lower() in _NO_VALUE:
        return ""
    if _THOUSANDS.fullmatch(text):
        return text.replace(",", "")
    return text


def _export_columns(path: Path, export: ReportExport, header: list[str]) -> dict[str, str]:
    missing = [f"'{export.columns[name]}' (for {name})" for name in REQUIRED_EXPORT_COLUMNS
               if export.columns[name] not in header]
    if missing:
        raise InputError(
            f"{export.platform} export {path} has no column {', '.join(missing)}; its columns are: "
            f"{names(header)}. Fix platform_reports.exports[].columns in signal_audit.yml."
        )
    return {name: column for name, column in export.columns.items() if column in header}


def parse_report(
    values: Mapping[str, str], position: Position, platforms: Mapping[str, Platform]
) -> Parsed[tuple[Any, ...]] | Rejected:
    """Validate one report row; the first problem found is the reject reason."""
    def reject(reason: str) -> Rejected:
        return Rejected(position, reason)

    raw_date = values["date"].strip()
    if not raw_date:
        return reject("missing date")
    try:
        report_date = dt.date.fromisoformat(raw_date)
    except ValueError:
        return reject(f"date {quote(raw_date)} is not a date (YYYY-MM-DD)")
    platform = values["platform"].strip().lower()
    if not platform:
        return reject("missing platform")
    if platform not in platforms:
        known = known_platforms(platforms)
        return reject(f"unknown platform {quote(values['platform'])} (known: {known})")
    event_name = values["event_name"].strip()
    if not event_name:
        return reject("missing event_name")
    if not values["events_received"].strip():
        return reject("missing events_received")

    counts: dict[str, int | None] = {}
    for name in ("events_received", "events_deduplicated", "events_matched"):
        counts[name], problem = _checked(values.get(name, ""), name, _count)
        if problem:
            return reject(problem)
    score, problem = _checked(values.get("match_quality_score", ""), "match_quality_score", _score)
    if problem:
        return reject(problem)

    pixel_id = values.get("pixel_id", "").strip()
    key = (report_date, platform, pixel_id, event_name)
    row = (*key, counts["events_received"], counts["events_deduplicated"],
           counts["events_matched"], score, position.file, position.line)
    return Parsed(position, key, row)


def _checked(
    text: str, name: str, parse: Callable[[str], Any]
) -> tuple[Any, str | None]:
    """(value, None), (None, None) when blank, or (None, why `text` is not valid for `name`)."""
    text = text.strip()
    if not text:
        return None, None
    try:
        return parse(text), None
    except ValueError as exc:
        return None, f"{name} {quote(text)} {exc}"


def _count(text: str) -> int:
    if _INTEGER.fullmatch(text):
        if len(text.lstrip("+-")) > 19:  # beyond any bigint (and Python's digit limit)
            raise ValueError("is too large")
        number = int(text)
    else:
        try:
            as_float = float(text)  # exports from spreadsheets write counts as `12.0`
        except ValueError:
            raise ValueError("is not a whole number") from None
        if not (math.isfinite(as_float) and as_float.is_integer()):
            raise ValueError("is not a whole number")
        number = int(as_float)
    if number < 0:
        raise ValueError("is negative")
    if number > _BIGINT_MAX:
        raise ValueError("is too large")
    return number


def _score(text: str) -> float:
    try:
        score = float(text)
    except ValueError:
        raise ValueError("is not a number") from None
    if not 0 <= score <= 10:  # also false for NaN
        raise ValueError("is outside 0-10")
    return score


def _report_columns(path: Path, header: list[str]) -> dict[str, str]:
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise InputError(
            f"platform report {path} has no column {', '.join(missing)}; its columns are: "
            f"{names(header)}. Expected: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}."
        )
    return {name: name for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if name in header}
