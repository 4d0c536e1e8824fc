"""Normalization and SHA-256 hashing of customer PII, following the platforms' documented rules.

Meta's and Snap's docs ask for: email trimmed and lowercased; phone as digits with country
code, no '+', no leading zeros; names lowercased without punctuation; city lowercased without
punctuation or spaces; state and country lowercased codes; zip without spaces or dashes
(US: first 5 digits). TikTok's integrations hash the phone as '+' plus E.164 digits.
Documented test vectors are pinned in tests/python/test_pii.py.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

import phonenumbers

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)
_NON_DIGITS = re.compile(r"\D")
_SPACES_DASHES = re.compile(r"[\s\-]")


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def is_sha256(value: object) -> bool:
    """A value counts as hashed when it is 64 lowercase hex characters."""
    return isinstance(value, str) and SHA256_HEX.match(value) is not None


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = unicodedata.normalize("NFC", str(value)).strip()
    return value or None


def normalize_email(value: str | None) -> str | None:
    value = _clean(value)
    return value.lower() if value else None


def normalize_name(value: str | None) -> str | None:
    value = _clean(value)
    if not value:
        return None
    return _PUNCTUATION.sub("", value.lower()).strip() or None


def normalize_city(value: str | None) -> str | None:
    value = normalize_name(value)
    return re.sub(r"\s+", "", value) if value else None


def normalize_state(value: str | None) -> str | None:
    value = _clean(value)
    return _PUNCTUATION.sub("", value.lower()).replace(" ", "") if value else None


def normalize_country(value: str | None) -> str | None:
    value = _clean(value)
    return value.lower() if value else None


def normalize_zip(value: str | None, country: str | None = None) -> str | None:
    value = _clean(value)
    if not value:
        return None
    value = _SPACES_DASHES.sub("", value.lower())
    if (country or "").strip().lower() == "us":
        value = value[:5]
    return value or None


@lru_cache(maxsize=65536)
def phone_digits(value: str | None, region: str | None = None) -> str | None:
    """E.164 digits without '+' (e.g. '16505551212'), or None when there are no digits.

    `region` (ISO alpha-2) supplies the country code for numbers written without one.
    A number phonenumbers cannot parse falls back to its digits without a leading '00'.
    """
    value = _clean(value)
    if not value:
        return None
    try:
        parsed = phonenumbers.parse(value, (region or "").upper() or None)
        if phonenumbers.is_possible_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]
    except phonenumbers.NumberParseException:
        pass
    digits = _NON_DIGITS.sub("", value)
    if digits.startswith("00"):
        digits = digits[2:]
    return digits.lstrip("0") or None


def hash_or_none(normalized: str | None) -> str | None:
    return sha256(normalized) if normalized else None


# Hashes of raw values, as an order's `*_sha256` columns hold them. Order exports repeat the
# same names, cities, states and zips (and a returning customer's email and phone) across
# thousands of rows, so each distinct value is normalized and hashed once per process.
_DISTINCT = 2**14


@lru_cache(maxsize=_DISTINCT)
def email_sha256(value: str | None) -> str | None:
    return hash_or_none(normalize_email(value))


@lru_cache(maxsize=_DISTINCT)
def phone_sha256(value: str | None, region: str | None = None) -> tuple[str | None, str | None]:
    """SHA-256 of the phone's E.164 digits without '+' (Meta, Snap) and with it (TikTok)."""
    digits = phone_digits(value, region)
    return hash_or_none(digits), hash_or_none(f"+{digits}" if digits else None)


@lru_cache(maxsize=_DISTINCT)
def name_sha256(value: str | None) -> str | None:
    return hash_or_none(normalize_name(value))


@lru_cache(maxsize=_DISTINCT)
def city_sha256(value: str | None) -> str | None:
    return hash_or_none(normalize_city(value))


@lru_cache(maxsize=_DISTINCT)
def state_sha256(value: str | None) -> str | None:
    return hash_or_none(normalize_state(value))


@lru_cache(maxsize=_DISTINCT)
def zip_sha256(value: str | None, country: str | None = None) -> str | None:
    return hash_or_none(normalize_zip(value, country))


@lru_cache(maxsize=_DISTINCT)
def country_sha256(value: str | None) -> str | None:
    return hash_or_none(normalize_country(value))
