"""Settings: one source (dbt_project.yml vars), validated overrides, and the table GX reads."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from signal_audit_core.config import (
    PROJECT_DIR,
    ConfigError,
    default_audit_settings,
    known_platforms,
    load_config,
    validate_audit_settings,
)


def test_audit_settings_model_publishes_every_dbt_var():
    macro = (PROJECT_DIR / "macros" / "audit_settings.sql").read_text()
    published = set(re.findall(r"'([a-z_]+)'", macro.split("return(")[1]))
    assert published == set(default_audit_settings())


def test_defaults_are_the_contract_defaults():
    s = default_audit_settings()
    assert (s["reporting_timezone"], s["audit_window_days"], s["gap_threshold"], s["gap_severe_threshold"]) == (
        "UTC", 30, 0.10, 0.30)
    assert s["counted_statuses"] == ["paid", "fulfilled", "refunded", "partially_refunded"]
    assert (s["match_quality_pass"], s["match_quality_floor"], s["email_coverage_min"],
            s["latency_threshold_seconds"]) == (7.0, 5.0, 0.80, 3600)
    # the platforms' 48-hour dedup window; the checks' pass and floor levels of the contract
    assert s["dedup_window_hours"] == 48
    assert (s["field_validity_pass"], s["field_validity_floor"], s["dedup_rate_pass"], s["dedup_rate_floor"],
            s["timeliness_pass"], s["timeliness_floor"], s["pii_plaintext_events_max"]) == (
        0.98, 0.90, 0.90, 0.50, 0.95, 0.80, 0)


@pytest.mark.parametrize(
    ("audit", "message"),
    [
        ({"gap_treshold": 0.2}, "unknown audit setting 'gap_treshold'"),
        ({"gap_threshold": 15}, "'gap_threshold' must be a fraction between 0 and 1"),
        ({"match_quality_pass": "high"}, "'match_quality_pass' must be a score between 0 and 10"),
        ({"audit_window_days": 0}, "'audit_window_days' must be a whole number from 1 to 3660 (ten years), got 0"),
        ({"audit_window_days": 3661}, "'audit_window_days' must be a whole number from 1 to 3660"),
        ({"audit_window_days": 30.0}, "'audit_window_days' must be a whole number from 1 to 3660"),
        ({"dedup_window_hours": 8785}, "'dedup_window_hours' must be a whole number from 1 to 8784 (a year)"),
        ({"latency_threshold_seconds": True}, "'latency_threshold_seconds' must be a whole number from 1 to"),
        ({"gap_threshold": float("nan")}, "'gap_threshold' must be a fraction between 0 and 1, got nan"),
        ({"gap_threshold": -0.01}, "'gap_threshold' must be a fraction between 0 and 1"),
        ({"match_quality_floor": 10.5}, "'match_quality_floor' must be a score between 0 and 10"),
        ({"reporting_timezone": "Mars/Olympus"}, "is not an IANA time zone name"),
        ({"reporting_timezone": 5}, "'reporting_timezone' 5 is not an IANA time zone name"),
        ({"reporting_timezone": ["UTC"]}, "is not an IANA time zone name"),
        ({"audit_end_date": "31/05/2026"}, "'audit_end_date' must be a date written YYYY-MM-DD"),
        ({"audit_end_date": "20261001"}, "'audit_end_date' must be a date written YYYY-MM-DD, such as 2026-10-31, "
                                         "got '20261001'"),
        ({"audit_end_date": "2026-1-01"}, "'audit_end_date' must be a date written YYYY-MM-DD"),
        ({"audit_end_date": "2026-02-30"}, "'audit_end_date' must be a date written YYYY-MM-DD"),
        ({"audit_end_date": "2026-10-01T00:00"}, "'audit_end_date' must be a date written YYYY-MM-DD"),
        ({"audit_end_date": 20261001}, "'audit_end_date' must be a date written YYYY-MM-DD"),
        ({"platforms": ["meta", "pinterest"]}, "audit setting 'platforms' names unknown platform(s) 'pinterest'; "
                                               "known: meta, tiktok, snap (seeds/platforms.csv)"),
        ({"platforms": ["Meta"]}, "unknown platform(s) 'Meta'"),
        ({"platforms": ["meta", "meta"]}, "audit setting 'platforms' names one value twice"),
        ({"platforms": "meta"}, "audit setting 'platforms' must be a non-empty list of names"),
        ({"platforms": []}, "audit setting 'platforms' must be a non-empty list of names"),
        ({"counted_statuses": ["paid", ""]}, "audit setting 'counted_statuses' must be a non-empty list of names"),
        ({"counted_statuses": ["paid", 1]}, "audit setting 'counted_statuses' must be a non-empty list of names"),
        ({"dedup_rate_floor": 0.95}, "'dedup_rate_floor' (0.95) must not exceed 'dedup_rate_pass'"),
    ],
)
def test_bad_settings_are_refused_with_one_sentence(tmp_path: Path, audit, message):
    config = tmp_path / "signal_audit.yml"
    config.write_text(yaml.safe_dump({"audit": audit}))
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(config)


def test_config_paths_are_relative_to_the_config_file(tmp_path: Path):
    config = tmp_path / "signal_audit.yml"
    config.write_text("warehouse: wh/shop.duckdb\ninputs:\n  orders: data/*.csv\n"
                      "orders:\n  columns: {order_id: Name}\naudit:\n  gap_threshold: 0.2\n")
    loaded = load_config(config)
    assert loaded.warehouse == (tmp_path / "wh" / "shop.duckdb").resolve()
    assert loaded.inputs.orders == (str(tmp_path / "data" / "*.csv"),)
    assert loaded.orders.source_column("order_id") == "Name"
    assert loaded.orders.source_column("status") == "status"
    assert loaded.audit == {"gap_threshold": 0.2}


def test_unknown_mapping_column_is_refused(tmp_path: Path):
    config = tmp_path / "signal_audit.yml"
    config.write_text("orders:\n  columns: {order_number: Name}\n")
    with pytest.raises(ConfigError, match="unknown contract column"):
        load_config(config)


def test_good_edges_pass_and_reach_dbt_as_json(tmp_path: Path):
    config = tmp_path / "signal_audit.yml"
    # YAML reads an unquoted date as a date: dbt gets its YYYY-MM-DD text (json.dumps would fail on it)
    config.write_text("audit:\n  audit_end_date: 2026-10-01\n  audit_window_days: 3660\n  dedup_window_hours: 1\n"
                      "  gap_threshold: 0\n  gap_severe_threshold: 1\n  match_quality_pass: 10\n"
                      "  platforms: [snap]\n  reporting_timezone: America/New_York\n")
    audit = load_config(config).audit
    assert audit["audit_end_date"] == "2026-10-01" and audit["platforms"] == ["snap"]
    assert json.loads(json.dumps(audit)) == audit
    config.write_text("audit:\n  audit_end_date: '2026-10-01'\n  audit_end_date: null\n")
    assert load_config(config).audit == {"audit_end_date": None}


def test_known_platforms_are_the_seed_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A new platform is a seed row: the settings accept it with no change of code."""
    project = tmp_path / "project"
    (project / "seeds").mkdir(parents=True)
    shutil.copy(PROJECT_DIR / "dbt_project.yml", project / "dbt_project.yml")
    seed = (PROJECT_DIR / "seeds" / "platforms.csv").read_text()
    (project / "seeds" / "platforms.csv").write_text(seed + "pinterest,Pinterest,user_data,custom_data,digits,7,x\n")
    monkeypatch.setattr("signal_audit_core.config.PROJECT_DIR", project)
    assert known_platforms() == ("meta", "tiktok", "snap", "pinterest")
    assert validate_audit_settings({"platforms": ["meta", "pinterest"]}) == {"platforms": ["meta", "pinterest"]}
    with pytest.raises(ConfigError, match="known: meta, tiktok, snap, pinterest"):
        validate_audit_settings({"platforms": ["google"]})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("audit: [gap_threshold]", "audit must be a mapping of settings"),
        ("inputs: [orders.csv]", "inputs must be a mapping of settings"),
        ("inputs: {orders: 5}", "inputs.orders must be a path, a glob or a list of them"),
        ("inputs: {orderz: a.csv}", "unknown setting(s) in inputs: orderz"),
        ("orders: {columns: [order_id]}", "orders.columns must map contract columns to your file's column names"),
        ("orders: {columns: {order_id: [Name]}}", "orders.columns.order_id must name a column of your file"),
        ("orders: {naive_timezone: Berlin}", "orders.naive_timezone 'Berlin' is not an IANA time zone name"),
        ("orders: {default_phone_region: Germany}", "orders.default_phone_region must be a two-letter country code"),
        ("orders: {colums: {}}", "unknown setting(s) in orders: colums"),
        ("warehouse: [a.duckdb]", "warehouse must be the path of a .duckdb file"),
        ("platform_reports: {exports: [{files: a.csv, platform: snap, pixel_id: [1], columns: "
         "{date: d, event_name: e, events_received: n}}]}", "platform_reports.exports[0].pixel_id must be a text"),
        ("sources: {orders: {stripe: {created_gte: '9999-12-31T23:59:59-05:00'}}}",
         "sources.orders.stripe.created_gte is out of range"),
        ("sources: {orders: {shopify: {shop_url: my-shop.myshopify.com, page_size: 251}}}",
         "sources.orders.shopify.page_size must be at most 250"),
    ],
)
def test_every_section_refuses_wrong_types_with_one_sentence(tmp_path: Path, text: str, message: str):
    config = tmp_path / "signal_audit.yml"
    config.write_text(text + "\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(config)


# Values of every YAML type, and the edges of the ranges: each setting either takes one or
# refuses it with a ConfigError, never another exception (which the CLI would call a bug).
_ANY_VALUE = [None, True, 0, -1, 1, 10**30, 0.5, float("nan"), float("inf"), "", "x", "2026-10-01", "20261001",
              dt.date(2026, 10, 1), dt.datetime(2026, 10, 1, 12), [], ["meta"], [1], {}, {"a": 1}]


@pytest.mark.parametrize("name", sorted(default_audit_settings()))
def test_every_audit_setting_has_a_rule(name: str):
    """A setting added to dbt_project.yml without a rule in config.py would take anything."""
    with pytest.raises(ConfigError, match=re.escape(f"'{name}'")):
        validate_audit_settings({name: {"not": "a value"}})


@pytest.mark.parametrize(
    ("audit", "message"),
    [
        ({"pii_plaintext_events_max": -1}, "'pii_plaintext_events_max' must be a whole number from 0 to 1000000000"),
        ({"max_load_age_hours": 0}, "'max_load_age_hours' must be a whole number from 1 to 87840 (ten years)"),
        ({"max_rejected_share": 1.5}, "'max_rejected_share' must be a fraction between 0 and 1"),
    ],
)
def test_the_landed_data_and_pii_bounds_have_ranges(audit, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        validate_audit_settings(audit)
    name = next(iter(audit))
    edge = {"pii_plaintext_events_max": 0, "max_load_age_hours": 87_840, "max_rejected_share": 1}[name]
    assert validate_audit_settings({name: edge}) == {name: edge}


@pytest.mark.parametrize("name", sorted(default_audit_settings()))
def test_every_audit_setting_takes_or_refuses_any_value(tmp_path: Path, name: str):
    config = tmp_path / "signal_audit.yml"
    for value in _ANY_VALUE:
        config.write_text(yaml.safe_dump({"audit": {name: value}}))
        try:
            audit = load_config(config).audit
        except ConfigError as exc:
            assert "\n" not in str(exc) and name in str(exc)
            continue
        json.dumps(audit)  # what is taken goes to dbt as --vars


_SECTIONS = {
    "warehouse": "w.duckdb",
    "inputs": {"orders": "o.csv", "delivery_log": ["d.jsonl"], "platform_reports": "r.csv"},
    "orders": {"columns": {"order_id": "Name"}, "naive_timezone": "UTC", "default_phone_region": "DE"},
    "platform_reports": {"exports": [{"files": "t.csv", "platform": "tiktok", "pixel_id": "P1", "date_format": "%d",
                                      "columns": {"date": "Day", "event_name": "Event", "events_received": "N"}}]},
    "sources": {"orders": {"stripe": {"created_gte": "2026-01-01", "refund_lookback_days": 7, "page_size": 50}},
                "meta_graph": {"pixel_ids": ["1"], "pixel_stats_days": 7},
                "http": {"max_attempts": 3, "timeout": 5}},
}


def _paths(value: object, path: tuple = ()) -> list[tuple]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*path, i))
    return found


def _replaced(value: object, path: tuple, new: object) -> object:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)  # type: ignore[call-overload]
    copy[path[0]] = _replaced(copy[path[0]], path[1:], new)
    return copy


def test_every_other_setting_takes_or_refuses_any_value(tmp_path: Path):
    config = tmp_path / "signal_audit.yml"
    config.write_text(yaml.safe_dump(_SECTIONS))
    load_config(config)  # the base is valid
    for path in _paths(_SECTIONS):
        for value in _ANY_VALUE:
            config.write_text(yaml.safe_dump(_replaced(_SECTIONS, path, value)))
            try:
                load_config(config)
            except ConfigError as exc:
                assert "\n" not in str(exc), (path, value)
