"""The `sources:` settings: parsed and checked, secrets refused, and run from the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.shopify import FakeShopify, shopify_order

from signal_audit.cli import main
from signal_audit_core.config import ConfigError, load_config

TOKEN = "shpat_cli_0123456789"

EXAMPLE = """
sources:
  orders:
    sql: {url: "postgresql://shop@127.0.0.1:5432/shop", table: orders, schema: public,
          updated_at_column: updated_at, initial_updated_at: 2026-01-01}
  meta_graph: {pixel_ids: [1234567890], api_version: v21.0, pixel_stats_days: 3}
  http: {max_attempts: 8, backoff_factor: 2, max_retry_delay: 120}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "signal_audit.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_sources_section_is_read_with_its_defaults(tmp_path):
    config = load_config(write(tmp_path, EXAMPLE))
    sql, meta, http = config.sources.sql, config.sources.meta_graph, config.sources.http
    assert config.sources.orders_source == "sql" and config.has_inputs
    assert (sql.url, sql.table, sql.schema, sql.updated_at_column, sql.initial_updated_at) == (
        "postgresql://shop@127.0.0.1:5432/shop", "orders", "public", "updated_at", "2026-01-01T00:00:00Z")
    assert (meta.pixel_ids, meta.api_version, meta.base_url, meta.pixel_stats_days, meta.dataset_quality) == (
        ("1234567890",), "v21.0", "https://graph.facebook.com", 3, True)
    assert (http.max_attempts, http.backoff_factor, http.max_retry_delay, http.timeout) == (8, 2.0, 120.0, None)
    assert not load_config(write(tmp_path, "warehouse: w.duckdb\n")).has_inputs


@pytest.mark.parametrize(("text", "message"), [
    ("sources: {orders: {shopify: {shop_url: x.myshopify.com, access_token: shpat_123}}}",
     "sources.orders.shopify.access_token: secrets do not belong in signal_audit.yml; "
     "set SOURCES__SHOPIFY__ACCESS_TOKEN or put it in .dlt/secrets.toml"),
    ("sources: {orders: {stripe: {api_key: sk_live_123}}}",
     "sources.orders.stripe.api_key: secrets do not belong in signal_audit.yml; set SOURCES__STRIPE__API_KEY"),
    ("sources: {meta_graph: {pixel_ids: [1], token: EAAB}}",
     "sources.meta_graph.token: secrets do not belong in signal_audit.yml; set SOURCES__META__ACCESS_TOKEN"),
    ("sources: {orders: {sql: {url: 'postgresql://shop:hunter2@db/shop', table: o, updated_at_column: u}}}",
     "sources.orders.sql.url holds a password: secrets do not belong in signal_audit.yml"),
    ("sources: {orders: {sql: {url: 'postgresql://db/shop', table: o, updated_at_column: u}, "
     "stripe: {}}}", "sources.orders names sql and stripe: choose one system orders come from"),
    ("sources: {orders: {shopify: {shop_url: x.myshopify.com, order_id: number}}}",
     "sources.orders.shopify.order_id must be id, name or order_number"),
    ("sources: {meta_graph: {pixel_ids: []}}", "sources.meta_graph.pixel_ids must list the pixel"),
    ("sources: {orders: {sql: {table: o, updated_at_column: u}}}", "sources.orders.sql.url is required"),
    ("sources: {orders: {stripe: {object: refunds}}}", "sources.orders.stripe.object: only charges are supported"),
    ("sources: {meta_graph: {pixel_ids: [1], pixel_stats_days: 0}}",
     "sources.meta_graph.pixel_stats_days must be a whole number above 0"),
    ("sources: {http: {max_attemps: 3}}", "unknown setting(s) in sources.http: max_attemps"),
    ("platform_reports: {exports: [{files: a.csv, platform: tiktok, columns: {date: Date, event_name: E}}]}",
     "platform_reports.exports[0].columns must name the export's column for events_received"),
])
def test_mistakes_in_the_sources_section_are_one_sentence(tmp_path, text, message):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert str(caught.value).startswith(message)
    for secret in ("shpat_123", "sk_live_123", "EAAB", "hunter2"):
        assert secret not in str(caught.value)


def test_the_cli_loads_a_configured_source_and_names_it_when_the_token_is_refused(tmp_path, monkeypatch, capsys):
    with FakeShopify(TOKEN) as shopify:
        for i in range(1, 4):
            shopify.put(shopify_order(2000 + i, f"2026-05-0{i}T10:00:00Z"))
        config = write(tmp_path, f"warehouse: wh/shop.duckdb\nsources:\n  orders:\n    shopify: {{shop_url: "
                                 f"'{shopify.url}', api_version: '2024-10'}}\n  http: {{backoff_factor: 0}}\n")
        monkeypatch.setenv("SOURCES__SHOPIFY__ACCESS_TOKEN", TOKEN)
        assert main(["load", "--config", str(config)]) == 0
        out = capsys.readouterr().out
        assert "shopify_orders: 3 rows read, 3 loaded" in out

        monkeypatch.setenv("SOURCES__SHOPIFY__ACCESS_TOKEN", "shpat_revoked")
        assert main(["load", "--config", str(config)]) == 2
        captured = capsys.readouterr()
        assert ("shopify: the access token was refused (HTTP 401) — check SOURCES__SHOPIFY__ACCESS_TOKEN"
                in captured.err)
        assert "shpat_revoked" not in captured.out + captured.err
