"""Settings: one source (dbt_project.yml vars), validated overrides, and the table GX reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from signal_audit.config import PROJECT_DIR, ConfigError, default_audit_settings, load_config


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


@pytest.mark.parametrize(
    ("audit", "message"),
    [
        ({"gap_treshold": 0.2}, "unknown audit setting 'gap_treshold'"),
        ({"gap_threshold": 15}, "'gap_threshold' must be a fraction between 0 and 1"),
        ({"match_quality_pass": "high"}, "'match_quality_pass' must be a score between 0 and 10"),
        ({"audit_window_days": 0}, "'audit_window_days' must be a whole number above 0"),
        ({"reporting_timezone": "Mars/Olympus"}, "is not an IANA time zone name"),
        ({"audit_end_date": "31/05/2026"}, "audit_end_date must be YYYY-MM-DD"),
        ({"dedup_rate_floor": 0.95}, "'dedup_rate_floor' (0.95) must not exceed 'dedup_rate_pass'"),
    ],
)
def test_bad_settings_are_refused_with_one_sentence(tmp_path: Path, audit, message):
    import yaml

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
