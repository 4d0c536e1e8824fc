"""Alerts: a Slack-compatible POST when a check turns from pass to fail, to a local server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from signal_audit.alerts import WEBHOOK_ENV, send_alerts
from signal_audit.history import TABLE, record_run

SECRET_PATH = "/services/T000/B000/s3cr3t-token"


class Webhook:
    """A local HTTP server standing in for Slack; answers `status` and keeps every POST body."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts.append({"path": self.path, "type": self.headers["Content-Type"],
                                    "json": json.loads(body)})
                self.send_response(outer.status)
                self.end_headers()
                self.wfile.write(b"ok" if outer.status == 200 else b"invalid_payload")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{SECRET_PATH}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def warehouse(audited, tmp_path: Path) -> Path:
    """A private copy of the broken shop's warehouse, with a previous run where every check passed."""
    copy = tmp_path / "wh" / "audit.duckdb"
    copy.parent.mkdir()
    shutil.copy(audited("broken").warehouse, copy)
    assert record_run(copy) == []  # the first run has nothing to compare with
    con = duckdb.connect(str(copy))
    con.execute(f"update {TABLE} set status = 'pass', recorded_at = recorded_at - interval 1 day")
    con.close()
    return copy


def cli(*args: str, cwd: Path, url: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != WEBHOOK_ENV}
    if url:
        env[WEBHOOK_ENV] = url
    return subprocess.run([sys.executable, "-m", "signal_audit.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)


def test_history_records_every_run_and_the_changes(warehouse: Path):
    changes = record_run(warehouse)
    turned = {(c.platform, c.check_name) for c in changes if c.turned_failing}
    assert turned == {("meta", "conversion_gap"), ("tiktok", "conversion_gap"), ("tiktok", "pii_hashing")}
    assert {(c.platform, c.check_name, c.current) for c in changes if not c.turned_failing} >= {
        ("meta", "timeliness", "warn"), ("tiktok", "deduplication", "warn")}
    runs = duckdb.connect(str(warehouse), read_only=True).execute(
        f"select count(distinct run_id), count(*) from {TABLE}").fetchone()
    assert runs == (2, 42)
    assert record_run(warehouse) == []  # the same scorecard again: nothing changed


def test_a_check_turning_to_fail_posts_one_slack_message_each(warehouse: Path, webhook: Webhook):
    result = cli("check", "--warehouse", str(warehouse), cwd=warehouse.parent, url=webhook.url)
    assert result.returncode == 1  # the checks' verdict, as without alerts
    assert "3 alert(s) posted to the webhook" in result.stdout
    assert len(webhook.posts) == 3
    assert {p["path"] for p in webhook.posts} == {SECRET_PATH}
    assert all(p["type"] == "application/json" for p in webhook.posts)
    by_text = {p["json"]["text"].split(" (")[0]: p["json"] for p in webhook.posts}
    assert set(by_text) == {
        "signal-audit: Meta conversion gap turned from PASS to FAIL",
        "signal-audit: TikTok conversion gap turned from PASS to FAIL",
        "signal-audit: TikTok PII hashing turned from PASS to FAIL",
    }
    meta = by_text["signal-audit: Meta conversion gap turned from PASS to FAIL"]
    assert "2026-10-02 to 2026-10-31" in meta["text"] and "Meta counted 1,421" in meta["text"]
    assert [b["type"] for b in meta["blocks"]] == ["header", "section", "context"]
    assert meta["blocks"][1]["text"]["type"] == "mrkdwn"
    assert "s3cr3t" not in result.stdout + result.stderr  # the webhook URL is a secret

    again = cli("check", "--warehouse", str(warehouse), cwd=warehouse.parent, url=webhook.url)
    assert again.returncode == 1
    assert len(webhook.posts) == 3  # nothing changed since: no new post
    assert "alert" not in again.stdout


def test_no_webhook_configured_means_no_post_and_no_noise(warehouse: Path, webhook: Webhook):
    result = cli("check", "--warehouse", str(warehouse), cwd=warehouse.parent, url=None)
    assert result.returncode == 1
    assert "changed since the previous run: meta conversion_gap pass -> fail" in result.stdout
    assert webhook.posts == [] and "warning" not in result.stderr


def test_a_failing_webhook_warns_but_does_not_fail_the_audit(warehouse: Path):
    hook = Webhook(status=500)
    try:
        result = cli("check", "--warehouse", str(warehouse), cwd=warehouse.parent, url=hook.url)
    finally:
        hook.close()
    assert result.returncode == 1  # the checks' verdict, not a crash (3) nor a pass
    assert "signal-audit: warning: the alert webhook answered HTTP 500" in result.stderr
    assert "the audit result is unaffected" in result.stderr
    assert "Traceback" not in result.stderr and "s3cr3t" not in result.stdout + result.stderr


def test_an_unreachable_webhook_warns_once(warehouse: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    changes = record_run(warehouse)
    outcome = send_alerts(changes, url=f"http://127.0.0.1:{port}{SECRET_PATH}")
    assert outcome.sent == 0
    assert len(outcome.warnings) == 1 and "could not be reached" in outcome.warnings[0]
    assert "3 alert(s) not delivered" in outcome.warnings[0] and "s3cr3t" not in outcome.warnings[0]


def test_a_webhook_that_is_not_a_url_is_refused_without_echoing_it(warehouse: Path):
    outcome = send_alerts(record_run(warehouse), url="slack-s3cr3t")
    assert outcome.sent == 0 and outcome.warnings == [f"{WEBHOOK_ENV} is not an http(s) URL; no alert was sent"]
