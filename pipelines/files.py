"""Input files: paths and globs expanded to sorted files, plain or gzip text read line by line."""

from __future__ import annotations

import csv
import glob
import gzip
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO

BOM = "\ufeff".encode()


class InputError(ValueError):
    """An input cannot be read as configured; the message names the file and what is wrong."""


def expand(patterns: Iterable[str], what: str) -> list[Path]:
    """Absolute paths of the files that `patterns` name, sorted, each once.

    A pattern that matches nothing is an error, not an empty input: a typo in a path would
    otherwise make an audit of no orders look like an audit of a shop without sales.
    """
    files: set[Path] = set()
    for pattern in patterns:
        expanded = os.path.expanduser(pattern)
        if any(c in expanded for c in "*?["):
            matches = [Path(p) for p in glob.glob(expanded, recursive=True) if os.path.isfile(p)]
            if not matches:
                raise InputError(f"{what}: no file matches '{pattern}'")
        elif os.path.isfile(expanded):
            matches = [Path(expanded)]
        elif os.path.exists(expanded):
            raise InputError(f"{what}: '{pattern}' is not a file (a glob such as '{pattern}/*' is)")
        else:
            raise InputError(f"{what}: file '{pattern}' does not exist")
        files.update(p.resolve() for p in matches)
    return sorted(files)


def is_gzip(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


@contextmanager
def open_text(path: Path) -> Iterator[TextIO]:
    """Open a UTF-8 text file, gunzipping `.gz`; a BOM (as Excel writes one) is dropped.

    `newline=""` leaves line endings to the csv module, which needs them inside quoted fields.
    """
    opener: Callable[..., TextIO] = gzip.open if is_gzip(path) else open  # type: ignore[assignment]
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        try:
            yield fh
        except UnicodeDecodeError as exc:
            raise InputError(f"{path} is not UTF-8 text ({exc.reason})") from None
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise InputError(f"{path} is not a complete gzip file ({exc})") from None


def numbered_byte_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, the line's bytes without its `\\n`) for every line, blank ones too.

    Lines end at `\\n` only: a bare `\\r` is whitespace inside a JSON line (and a `\\r\\n`
    ending leaves a trailing `\\r` that callers strip), never a line of its own. A UTF-8 BOM
    on the first line (as Excel writes one) is dropped. Raises InputError when a `.gz` file is
    not complete gzip.
    """
    opener: Callable[..., BinaryIO] = gzip.open if is_gzip(path) else open  # type: ignore[assignment]
    with opener(path, "rb") as fh:
        try:
            for line_no, line in enumerate(fh, start=1):
                if line_no == 1 and line.startswith(BOM):
                    line = line[len(BOM):]
                yield line_no, line.removesuffix(b"\n")
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise InputError(f"{path} is not a complete gzip file ({exc})") from None


def decode_line(line: bytes) -> str | None:
    """A line's text without trailing whitespace, or None when it is not UTF-8."""
    try:
        return line.decode("utf-8").rstrip()
    except UnicodeDecodeError:
        return None


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number from 1, text without trailing whitespace) for every line, blank ones too;
    lines end at `\\n` only (numbered_byte_lines). Raises InputError naming the first line
    that is not UTF-8."""
    for line_no, line in numbered_byte_lines(path):
        text = decode_line(line)
        if text is None:
            raise InputError(f"{path} is not UTF-8 text (line {line_no})")
        yield line_no, text


def csv_records(
    path: Path, select: Callable[[list[str]], Mapping[str, str]]
) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(line, name -> text) for each data row, or (line, why the row cannot be read).

    `select` gets the header and returns the wanted name -> header column, raising
    InputError when the file lacks a column it needs. The header is line 1; a row starts on
    the line after the previous row ended, since quoted values may span lines. Rows with no
    value at all (blank lines, `,,,`) are skipped, not counted.
    """
    with open_text(path) as fh:
        reader = csv.reader(fh)
        try:
            header = [name.strip() for name in next(reader, [])]
            if not header:
                return
            index = {name: header.index(column) for name, column in select(header).items()}
            line = reader.line_num
            for fields in reader:
                start, line = line + 1, reader.line_num
                if not "".join(fields).strip():  # no value at all (faster than any() per field)
                    continue
                if len(fields) != len(header):
                    yield start, f"has {len(fields)} fields, the header has {len(header)}"
                    continue
                yield start, {name: fields[i] for name, i in index.items()}
        except csv.Error as exc:
            raise InputError(f"{path} line {reader.line_num} is not valid CSV: {exc}") from None
