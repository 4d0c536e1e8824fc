"""Normalization and SHA-256 hashing of customer PII, following the platforms' documented rules,
and finding e-mail addresses and phone numbers in any text (for redaction, at the end).

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
from urllib.parse import unquote

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


# --- e-mail addresses and phone numbers inside any text ----------------------------------------
# Used where customer data must not be (delivery-log payloads beyond their must-hash keys):
# what these find is replaced by a marker and counted. What they look for, and what they
# cannot see (a name alone, a phone written as bare digits), is in docs/inputs.md.

EMAIL_MARK = "[redacted email]"
PHONE_MARK = "[redacted phone]"

# An address: a local part of the characters RFC 5322 allows unquoted (but `& / = ?`, which in
# practice are URL syntax around an address), `@`, and a domain ending in a TLD of letters.
# Lengths are bounded (64 is RFC 5321's limit for the local part) so that a long text without
# an address costs linear time.
_EMAIL = re.compile(r"[\w.!#$%'*+^`{|}~-]{1,64}@(?:[\w-]{1,63}\.){1,8}[^\W\d_]{2,63}")
# A run that may be a phone number: an optional `+`, ASCII digits and the separators people
# write in phone numbers (space, `-`, `.`, brackets).
_PHONE_RUN = re.compile(r"\+?\(?[0-9][0-9().\- ]*")
_RUN_CHARS = frozenset("0123456789().- +")
_RUN_END = " -.("
# Where a phone number may be, found far faster than every run of digits: a `+` or `(` before
# a digit, or two groups of two or more digits after a separator (`-555-12`). Every number
# _is_phone accepts holds one; most texts that are not phone numbers (hashes, ids, prices,
# dates, IP addresses) do not.
PHONE_SEEDS = (re.compile(r"\+[0-9(]"), re.compile(r"\([0-9]"), re.compile(r"[-. ()][0-9]{2,}[-. ()]+[0-9]{2}"))
# For a prefilter in SQL (pipelines/log_sql.py), strictly weaker than the search here. A phone
# number _is_phone accepts is a _PHONE_RUN match that starts where _phone_spans lets one start
# and holds a seed: a leading `+`, a bracketed group, or two groups of 2+ digits after the
# first. An address, or an escaped one, needs '@', '%' or a backslash.
PHONE_HINT = (r"(^|[^0-9A-Za-z_+.\-])"
              r"(\+\(?[0-9]|\([0-9]|\(?[0-9][0-9().\- ]*(\([0-9]|[-. ()][0-9]{2,}[-. ()]+[0-9]{2}))")
CONTACT_HINT = r"[@%\\]"
_DIGIT_GROUPS = re.compile(r"[0-9]+")
_BRACKETED = re.compile(r"\([0-9]{1,5}\)")
_DATE = re.compile(r"[0-9]{4}([-./])[0-9]{1,2}\1[0-9]{1,2}(?![0-9])|[0-9]{1,2}([-./])[0-9]{1,2}\2[0-9]{2,4}$")
_IPV4 = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){3}")


def _is_phone(run: str) -> bool:
    """Whether a run of digits and separators is written as a phone number: 7 to 15 digits,
    and a leading `+` (a number phonenumbers calls possible), a bracketed area code, or three
    to five groups of digits (two neighbouring ones after the first of two or more digits)
    that are not a date, an IPv4 address or thousands."""
    groups = _DIGIT_GROUPS.findall(run)
    digits = sum(map(len, groups))
    if not 7 <= digits <= 15:
        return False
    if run.startswith("+"):
        try:
            return phonenumbers.is_possible_number(phonenumbers.parse(run))
        except phonenumbers.NumberParseException:
            return False
    if _DATE.match(run) or _IPV4.fullmatch(run):
        return False
    if _BRACKETED.search(run):
        return True
    thousands = len(groups) >= 2 and all(len(g) == 3 for g in groups[1:])
    # two neighbouring groups after the first of two or more digits: `650-555-1212`,
    # `06 12 34 56 78`, not `1.2.3456789`
    pairs = any(len(a) >= 2 and len(b) >= 2 for a, b in zip(groups[1:], groups[2:], strict=False))
    return 3 <= len(groups) <= 5 and pairs and not thousands


def _phone_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` holds phone numbers: the runs around each seed, judged by _is_phone. A run
    that continues a word, an id or a decimal (`order-650-555-1212`, `fb.1.1714564800000`) or
    runs into one (`2026-05-01T12`, a time) is not one."""
    spans: list[tuple[int, int]] = []
    done = 0
    seeds = [m.span() for pattern in PHONE_SEEDS for m in pattern.finditer(text)]
    for left, right in sorted(seeds) if len(seeds) > 1 else seeds:
        if left < done:
            continue
        while left and text[left - 1] in _RUN_CHARS:
            left -= 1
        while right < len(text) and text[right] in _RUN_CHARS:
            right += 1
        done = right
        for match in _PHONE_RUN.finditer(text, left, right):
            start = match.start()
            before = text[start - 1:start]
            if before.isalnum() or before in ("_", "+", ".", "-"):
                continue
            run = match.group().rstrip(_RUN_END)
            end = start + len(run)
            after = text[end:end + 1]
            if after.isalnum() or after in ("_", ":"):
                continue
            if _is_phone(run):
                spans.append((start, end))
    return spans


def _has_contact(text: str) -> bool:
    return ("@" in text and _EMAIL.search(text) is not None) or bool(_phone_spans(text))


def may_hold_contact(text: str) -> bool:
    """False when `text` holds no e-mail address or phone number (as find_contacts sees them),
    cheaply: run on whole delivery-log lines before looking at their values one by one. True
    also for text with a backslash (JSON escapes hide what they stand for)."""
    if "\\" in text:
        return True
    while not _has_contact(text):
        decoded = unquote(text) if "%" in text else text
        if decoded == text:
            return False
        text = decoded
    return True


def find_contacts(text: str) -> tuple[str, int, int]:
    """`text` with every e-mail address and phone number replaced by EMAIL_MARK / PHONE_MARK,
    and how many of each were replaced.

    A text with `%` escapes (a URL) is read percent-decoded, so that `john%40gmail.com` and
    `%2B16505551212` are found; when something is found the decoded text is what is returned.
    """
    emails = phones = 0
    if "%" in text:
        decoded = unquote(text)
        redacted, emails, phones = find_contacts(decoded) if decoded != text else (text, 0, 0)
        if emails or phones:
            return redacted, emails, phones
    if "@" in text:
        text, emails = _EMAIL.subn(EMAIL_MARK, text)
    spans = _phone_spans(text)
    for start, end in reversed(spans):
        text = text[:start] + PHONE_MARK + text[end:]
    return text, emails, len(spans)
