"""Rejected rows: where a row came from and why it was not loaded, never what it held.

Every input row ends in its raw table or in `raw.rejected_rows`. The row's content is not kept
because it may hold plaintext PII; the file and line let the user look it up in their own copy.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

import pyarrow as pa

from pipelines.tables import INT64, TEXT, Column, Table
from signal_audit_core import pii

if TYPE_CHECKING:  # not at run time: log-parsing workers import this module without dlt
    from dlt.extract.items import DataItemWithMeta

REJECTED_ROWS = Table(
    "rejected_rows",
    primary_key=("source", "source_file", "source_line"),
    columns=(
        Column("source", TEXT, nullable=False),
        Column("source_file", TEXT, nullable=False),
        Column("source_line", INT64, nullable=False),
        Column("reason", TEXT, nullable=False),
    ),
)

# Rows per Arrow table handed to dlt: big enough for dlt's Arrow passthrough to be fast,
# small enough to keep memory flat on large exports.
CHUNK_ROWS = 50_000

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Position:
    """A row's place in the inputs: absolute file path and line (or Parquet record) number."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Rejected:
    position: Position
    reason: str


class Parsed(NamedTuple, Generic[T]):
    """A valid row before it is written: `key` is its primary key in the raw table."""

    position: Position
    key: Hashable
    value: T


@dataclass(frozen=True, slots=True)
class LineItems:
    """Rows read that continue an order read before them (a Shopify export's line items): folded
    into that order, neither loaded as rows of their own nor rejected."""

    rows: int


@dataclass
class Tally:
    loaded: int = 0
    rejected: int = 0
    line_items: int = 0


# --- what a value looks like, so that a reason can say so without quoting customer data ------

_PHONE_CHARS = re.compile(r"[\d\s+().\-/]+")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
_DIGITS = re.compile(r"\d+")
_HINT = re.compile(r"[@\d]")
_STRICT_HINT = re.compile(r"[@+(]")
_WORDS = re.compile(r"[^\W\d_]+(?:[\s'.-]+[^\W\d_]+)*", re.UNICODE)


def shape(value: Any) -> str:
    """What kind of value `value` is, as a plural noun: `e-mail addresses`, `phone numbers`,
    `words or names`, `numbers`, `dates`, `empty values` or `other text`."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return "empty values"
    # inside other text, e-mails and phones are what the delivery log's redaction finds
    _, emails, phones = pii.find_contacts(text)
    if emails:
        return "e-mail addresses"
    if phones or _looks_like_phone(text):
        return "phone numbers"
    if _DATE.match(text):
        return "dates"
    if _WORDS.fullmatch(text):
        return "words or names"
    try:
        float(text)
    except ValueError:
        return "other text"
    return "numbers"


def _looks_like_phone(text: str) -> bool:
    """Digits written as a phone number: 7 to 15 digits, with a `+`, a bracket or three groups;
    a bare run of digits is a number, a date is a date."""
    if not _PHONE_CHARS.fullmatch(text) or _DATE.match(text):
        return False
    groups = _DIGITS.findall(text)
    digits = sum(map(len, groups))
    return 7 <= digits <= 15 and (text.startswith("+") or "(" in text or len(groups) >= 3)


_PERSONAL = {"e-mail addresses": "an e-mail address", "phone numbers": "a phone number"}


def is_personal(value: Any, strict: bool = False) -> bool:
    """Whether `value` reads as an e-mail address or a phone number. `strict` for keys, which
    may well be runs of digits in groups (`2026-0501-0001`): a phone then needs a `+` or a
    bracket."""
    if value is None:
        return False
    text = str(value)
    if not may_be_personal(text, strict):
        return False
    kind = shape(text)
    if kind == "phone numbers" and strict:
        text = text.strip()
        return "+" in text or "(" in text
    return kind in _PERSONAL


def may_be_personal(text: str, strict: bool = False) -> bool:
    """The quick test before `is_personal`, which runs on several fields of every order: text
    with no @ and no digit (for a key: no @, + or bracket) is no e-mail address or phone."""
    return bool((_STRICT_HINT if strict else _HINT).search(text))


def quote(value: Any) -> str:
    """A value for a reject reason, cut short: reasons are sentences, not copies of rows.

    Only values of non-PII fields (timestamps, amounts, platform names) are quoted, and not even
    those when they read as an e-mail address or a phone number (a column mapped to the wrong
    field): then the reason says what the value looks like instead.
    """
    if isinstance(value, Mapping | list | tuple):  # from an API: what it holds is not shown
        return "(an object)" if isinstance(value, Mapping) else "(a list)"
    text = str(value).strip()
    kind = shape(text)
    if kind in _PERSONAL:
        return f"({_PERSONAL[kind]})"
    # control characters would reach a terminal as they are (escape sequences included)
    text = "".join(c if c.isprintable() else "?" for c in text)
    return f"'{text[:40]}...'" if len(text) > 40 else f"'{text}'"


def names(texts: Iterable[str]) -> str:
    """Column names for a message, joined; a name that reads as customer data (a file without a
    header row, whose first row is taken for one) is shown as what it looks like."""
    return ", ".join(f"({_PERSONAL[shape(t)]})" if is_personal(t) else t for t in texts)


@dataclass
class RejectSummary:
    """Why the rows of one input were rejected, in words that quote no value: the evidence for
    naming the likely mistake when every row of the input was rejected."""

    causes: Counter[tuple[str, bool]] = field(default_factory=Counter)  # (cause, a field's fault)

    def note(self, reason: str, values: Mapping[str, Any] | None = None) -> None:
        """A row rejected for `reason`. When the reason is about one field of `values` (it
        starts with the field's name, or `missing` and the name), what that field held is noted;
        else the reason itself, which quotes nothing personal."""
        words = reason.split(" ", 2)
        name = words[1] if words[0] == "missing" and len(words) > 1 else words[0]
        if values is None or name not in values:
            self.causes[reason, False] += 1
            return
        kind = shape(values[name])
        cause = f"{name} was empty" if kind == "empty values" else f"{name} held values like {kind}"
        self.causes[cause, True] += 1

    def all_rejected(self, what: str, fix: str) -> str:
        """The sentence for an input of which every row was rejected (`what`: `orders file
        /path/orders.csv`): most often a column mapped to the wrong field (`fix` says where
        the mapping is), else the wrong file."""
        rows = sum(self.causes.values())
        # customer data in a field is the surest sign of a mapping mistake: it is named first
        ranked = sorted(self.causes.items(), key=lambda item: (
            any(kind in item[0][0] for kind in _PERSONAL), item[1]), reverse=True)
        cause, of_field = ranked[0][0]
        return (f"every row of {what} was rejected ({rows:,} rows): {cause}; "
                f"{fix if of_field else 'check that it is the right file'}")


def keep_last(read: Callable[[], Iterable[Parsed[T] | Rejected]]) -> Iterator[Parsed[T] | Rejected]:
    """Rows whose key comes again later in the load are rejected as superseded: the later wins.

    `read` is called twice. The first pass only notes where each key last occurs, so no row
    has to be held in memory and no PII is hashed for rows that will be dropped. Only valid
    rows supersede: a broken newer row must not make the order vanish.
    """
    last: dict[Hashable, Position] = {}
    for item in read():
        if isinstance(item, Parsed):
            last[item.key] = item.position
    for item in read():
        if isinstance(item, Parsed) and last[item.key] != item.position:
            yield Rejected(item.position, f"superseded by {last[item.key]}")
        else:
            yield item


def emit(
    source: str,
    table: Table,
    items: Iterable[tuple[Any, ...] | pa.RecordBatch | Rejected | LineItems],
    tally: Tally,
    ensure_tables: bool = True,
) -> Iterator[DataItemWithMeta]:
    """Batch rows (tuples in `table`'s column order, or Arrow batches in its schema) and rejects
    into Arrow chunks for dlt.

    With `ensure_tables`, both tables get at least one chunk, empty if need be, so that every
    raw table exists with all its columns after any load; sources that emit page by page turn
    it off and leave that to the file pipeline.
    """
    rows: list[tuple[Any, ...]] = []
    batches: list[pa.RecordBatch] = []
    batched = 0
    rejects: list[tuple[Any, ...]] = []
    rows_sent = rejects_sent = False
    for item in items:
        if isinstance(item, LineItems):
            tally.line_items += item.rows
            continue
        if isinstance(item, Rejected):
            rejects.append((source, item.position.file, item.position.line, item.reason))
            tally.rejected += 1
            if len(rejects) == CHUNK_ROWS:
                yield REJECTED_ROWS.chunk(rejects)
                rejects, rejects_sent = [], True
            continue
        if isinstance(item, pa.RecordBatch):
            batches.append(item)
            batched += item.num_rows
            tally.loaded += item.num_rows
        else:
            rows.append(item)
            tally.loaded += 1
            if len(rows) < CHUNK_ROWS:
                continue
            batches.append(table.batch(rows))
            batched += len(rows)
            rows = []
        if batched >= CHUNK_ROWS:
            yield table.mark(pa.Table.from_batches(batches, schema=table.arrow_schema))
            batches, batched, rows_sent = [], 0, True
    if rows:
        batches.append(table.batch(rows))
    if batches or (ensure_tables and not rows_sent):
        yield table.mark(pa.Table.from_batches(batches, schema=table.arrow_schema))
    if rejects or (ensure_tables and not rejects_sent):
        yield REJECTED_ROWS.chunk(rejects)
