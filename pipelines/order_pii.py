"""Order PII hashed by column: each distinct value of a column normalized and hashed once.

An export of a million orders holds far fewer distinct emails, phones, names, cities, states,
zips and countries than rows (returning customers, common names, one country). So each PII
column is split into its distinct values (Arrow `unique`), every distinct value goes through the
one definition of its normalization and hash (signal_audit_core.pii), and the hashes are mapped
back to the rows (Arrow `index_in` + `take`). A zip is hashed per distinct (zip, country) and a
phone per distinct (phone, region): both rules read the country.

Plaintext stays in this process's memory: only the hashes leave this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from signal_audit_core import pii

PII_COLUMNS = ("email", "phone", "first_name", "last_name", "city", "state", "zip", "country")
# raw.orders' hash columns, in its column order
HASH_COLUMNS = ("email_sha256", "phone_sha256", "phone_e164_sha256", "first_name_sha256",
                "last_name_sha256", "city_sha256", "state_sha256", "zip_sha256", "country_sha256")


def text(value: Any) -> str | None:
    """Trimmed text, None when empty; whole floats lose their `.0` (ids read as floats)."""
    if isinstance(value, str):
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def phone_region(country: str | None, default_phone_region: str | None) -> str | None:
    """The region a phone written without its country code is read in: the order's country
    when that is a usable ISO alpha-2 code ("United States" is not), else the default."""
    usable = country is not None and len(country) == 2 and country.isalpha()
    return country if usable else default_phone_region


_TEXT = pa.string()
# pii.phone_sha256's pair: digits without '+' (Meta, Snap), with it (TikTok)
_PHONE_HASHES = pa.struct([("digits", pa.string()), ("e164", pa.string())])


def hashed(columns: Mapping[str, pa.Array], rows: int, default_phone_region: str | None) -> dict[str, pa.Array]:
    """The hash columns (HASH_COLUMNS) of `rows` orders from their raw PII columns (any Arrow
    type; a column that is absent is all null)."""
    raw = {name: columns[name] if name in columns else pa.nulls(rows, pa.string()) for name in PII_COLUMNS}
    country = by_distinct(raw["country"], text)
    region = by_distinct(country, lambda c: phone_region(c, default_phone_region))
    phones = by_distinct_pairs(raw["phone"], region, lambda p, r: pii.phone_sha256(text(p), r), _PHONE_HASHES)
    return {
        "email_sha256": by_distinct(raw["email"], lambda v: pii.email_sha256(text(v))),
        "phone_sha256": pc.struct_field(phones, "digits"),
        "phone_e164_sha256": pc.struct_field(phones, "e164"),
        "first_name_sha256": by_distinct(raw["first_name"], lambda v: pii.name_sha256(text(v))),
        "last_name_sha256": by_distinct(raw["last_name"], lambda v: pii.name_sha256(text(v))),
        "city_sha256": by_distinct(raw["city"], lambda v: pii.city_sha256(text(v))),
        "state_sha256": by_distinct(raw["state"], lambda v: pii.state_sha256(text(v))),
        "zip_sha256": by_distinct_pairs(raw["zip"], country, lambda z, c: pii.zip_sha256(text(z), c)),
        "country_sha256": by_distinct(country, pii.country_sha256),
    }


def by_distinct(values: pa.Array, fn: Callable[[Any], Any], type: pa.DataType = _TEXT) -> pa.Array:
    """`fn` of each value of `values` (null included), called once per distinct value."""
    values = _plain(values)
    distinct = pc.unique(values)
    mapped = _array([fn(v) for v in distinct.to_pylist()], type)
    return mapped.take(pc.index_in(values, value_set=distinct, skip_nulls=False))


def by_distinct_pairs(
    left: pa.Array, right: pa.Array, fn: Callable[[Any, Any], Any], type: pa.DataType = _TEXT
) -> pa.Array:
    """`fn(left, right)` of each row, called once per distinct pair of values."""
    left, right = _plain(left), _plain(right)
    left_values, right_values = pc.unique(left), pc.unique(right)
    width = len(right_values)
    codes = pc.add(
        pc.multiply(pc.index_in(left, value_set=left_values, skip_nulls=False).cast(pa.int64()), width),
        pc.index_in(right, value_set=right_values, skip_nulls=False).cast(pa.int64()))
    distinct = pc.unique(codes)
    lefts, rights = left_values.to_pylist(), right_values.to_pylist()
    mapped = _array([fn(lefts[code // width], rights[code % width]) for code in distinct.to_pylist()], type)
    return mapped.take(pc.index_in(codes, value_set=distinct))


def _array(values: list[Any], type: pa.DataType) -> pa.Array:
    """`values` as an Arrow array; a struct's values are tuples (built field by field: pyarrow
    would import pandas to read tuples)."""
    if not pa.types.is_struct(type):
        return pa.array(values, type)
    fields = [type.field(i) for i in range(type.num_fields)]
    columns = list(zip(*values, strict=True)) if values else [()] * len(fields)
    return pa.StructArray.from_arrays([pa.array(c, f.type) for c, f in zip(columns, fields, strict=True)],
                                      fields=fields)


def _plain(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array without dictionary encoding (as Parquet may hand a column)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], values.type)
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    return values
