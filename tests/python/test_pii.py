"""Normalization and hashing against the platforms' documented test vectors."""

from __future__ import annotations

import pytest

from signal_audit_core import pii


def test_meta_documented_vectors():
    assert pii.sha256(pii.normalize_email("  John_Smith@gmail.com ")) == (
        "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f")
    assert pii.sha256(pii.phone_digits("(650)555-1212", "US")) == (
        "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176")
    assert pii.sha256(pii.normalize_country("US")) == (
        "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621")


@pytest.mark.parametrize(
    ("raw", "region", "digits"),
    [
        ("+1 (650) 555-1212", None, "16505551212"),
        ("0049 30 1234567", None, "49301234567"),
        ("030 1234567", "DE", "49301234567"),  # trunk 0 dropped, country code added
        ("650.555.1212", "us", "16505551212"),
        ("030 1234567", None, "301234567"),  # no region to parse it with: digits, leading zeros dropped
        ("", None, None),
    ],
)
def test_phone_digits(raw, region, digits):
    assert pii.phone_digits(raw, region) == digits


def test_names_cities_and_zips():
    assert pii.normalize_name(" O'Brien-Smith ") == "obriensmith"
    assert pii.normalize_city("New York, NY") == "newyorkny"
    assert pii.normalize_zip("94025-1234", "US") == "94025"
    assert pii.normalize_zip("SW1A 1AA", "GB") == "sw1a1aa"


def test_is_sha256():
    assert pii.is_sha256("a" * 64)
    assert not pii.is_sha256("A" * 64)
    assert not pii.is_sha256("a" * 32)
    assert not pii.is_sha256("joe@example.com")


def test_the_cached_column_hashes_are_the_hashes_of_the_normalized_values():
    assert pii.email_sha256("  John_Smith@gmail.com ") == pii.sha256("john_smith@gmail.com")
    assert pii.phone_sha256("(650) 555-1212", "US") == (pii.sha256("16505551212"), pii.sha256("+16505551212"))
    assert pii.phone_sha256("", "US") == (None, None)
    assert pii.name_sha256(" O'Brien-Smith ") == pii.sha256("obriensmith")
    assert pii.city_sha256("New York, NY") == pii.sha256("newyorkny")
    assert pii.state_sha256(" N.Y. ") == pii.sha256("ny")
    assert pii.zip_sha256("94025-1234", "US") == pii.sha256("94025")
    assert pii.zip_sha256("94025-1234", "GB") == pii.sha256("940251234")
    assert pii.country_sha256(" US ") == pii.sha256("us")
    assert pii.email_sha256(None) is None and pii.name_sha256("  ") is None
