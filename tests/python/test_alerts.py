"""Alerts: a Slack-compatible POST when a check turns from pass to fail, to a local server."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from signal_audit.alerts import WEBHOOK_ENV, AlertOutcome, send_alerts, webhook_problem
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
    assert outcome.sent == 0 and outcome.warnings == [f"{WEBHOOK_ENV} is not a valid http(s) URL; no alert was sent"]


# ---------------------------------------------------------------- the URL is a secret, even when malformed

# each holds "s3cr3t"; urllib's and http.client's own errors for these quote the URL or its host
MALFORMED_URLS = [
    "http://127.0.0.1:s3cr3t-token/hook",  # a port that is not a number
    "http://127.0.0.1:1/hook s3cr3t",  # a space
    "http://127.0.0.1:1/hook\ns3cr3t",  # a control character
    "ftp://s3cr3t@127.0.0.1/hook",  # not http
    "https://[s3cr3t/hook",  # an IPv6 host never closed
    "http://127.0.0.1:99999/s3cr3t",  # a port out of range
    "http:///s3cr3t",  # no host
]


@pytest.mark.parametrize("url", MALFORMED_URLS)
def test_a_malformed_webhook_url_is_refused_before_any_request(warehouse: Path, url: str):
    assert webhook_problem(url) == f"{WEBHOOK_ENV} is not a valid http(s) URL"
    outcome = send_alerts(record_run(warehouse), url=url)
    assert outcome == AlertOutcome(0, [f"{WEBHOOK_ENV} is not a valid http(s) URL; no alert was sent"])


def test_a_good_url_has_no_problem():
    assert webhook_problem("https://hooks.slack.com/services/T000/B000/s3cr3t") is None
    assert webhook_problem("http://127.0.0.1:8080/hook") is None
    assert webhook_problem("") is None  # unset: no alerts, nothing to say


@pytest.mark.parametrize(
    "error",
    [
        lambda url: http.client.InvalidURL(f"nonnumeric port: '{url}'"),
        lambda url: ValueError(f"unknown url type: {url!r}"),
        lambda url: urllib.error.URLError(ssl.SSLCertVerificationError(1, f"hostname mismatch for {url}")),
        lambda url: http.client.BadStatusLine(url),
        lambda url: RuntimeError(url),
    ],
    ids=["invalid-url", "value-error", "ssl", "bad-status-line", "anything"],
)
def test_no_error_while_posting_escapes_or_quotes_the_url(warehouse: Path, monkeypatch: pytest.MonkeyPatch, error):
    url = f"http://127.0.0.1:1{SECRET_PATH}"

    def fail(request, timeout):
        raise error(request.full_url)

    monkeypatch.setattr(urllib.request, "urlopen", fail)
    outcome = send_alerts(record_run(warehouse), url=url)
    assert outcome.sent == 0 and len(outcome.warnings) == 1
    assert "could not be reached" in outcome.warnings[0] and "3 alert(s) not delivered" in outcome.warnings[0]
    assert "s3cr3t" not in outcome.warnings[0] and "127.0.0.1" not in outcome.warnings[0]


def test_an_error_anywhere_in_alerting_is_one_fixed_warning(warehouse: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]):
    from signal_audit import alerts, cli
    from signal_audit_core.targets import DuckDBTarget

    url = f"http://127.0.0.1:1{SECRET_PATH}"
    monkeypatch.setenv(WEBHOOK_ENV, url)

    def broken(*args, **kwargs):
        raise RuntimeError(f"could not post to {url}")

    monkeypatch.setattr(alerts, "send_alerts", broken)
    changes = cli._record_and_alert(DuckDBTarget(warehouse))
    assert len([c for c in changes if c.turned_failing]) == 3  # the history is kept all the same
    out, err = capsys.readouterr()
    assert err == f"signal-audit: warning: {alerts.ALERTING_FAILED}; the audit result is unaffected\n"
    assert "s3cr3t" not in out + err


class GarbageServer:
    """A local server that answers every request with bytes that are not HTTP."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.requests = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                self.requests += 1
                conn.sendall(b"NOT HTTP s3cr3t\r\n\r\n")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}{SECRET_PATH}"

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("kind", ["port-not-a-number", "space", "not-http", "server-answers-garbage"])
def test_check_with_a_broken_webhook_warns_without_the_url_and_keeps_its_verdict(warehouse: Path, kind: str):
    server = GarbageServer()
    try:
        url = {"port-not-a-number": "http://127.0.0.1:s3cr3t-token/hook",
               "space": server.url + " s3cr3t",
               "not-http": "file:///etc/s3cr3t",
               "server-answers-garbage": server.url}[kind]
        result = cli("check", "--warehouse", str(warehouse), cwd=warehouse.parent, url=url)
    finally:
        server.close()
    assert result.returncode == 1, result.stderr  # the checks' verdict, as without alerts
    assert "s3cr3t" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr
    if kind == "server-answers-garbage":
        assert server.requests == 1  # tried once, then gave up on the host
        assert ("signal-audit: warning: the alert webhook could not be reached (request failed); 3 alert(s) not "
                "delivered; the audit result is unaffected") in result.stderr
    else:
        assert server.requests == 0
        assert result.stderr.count("warning: SIGNAL_AUDIT_WEBHOOK_URL is not a valid http(s) URL; "
                                   "the audit runs without alerts") == 1


def test_run_with_a_malformed_webhook_writes_the_report_and_exits_as_without_it(audited, warehouse: Path):
    shop = audited("broken").shop_dir
    report = warehouse.parent / "r.html"
    result = cli("run", "--orders", str(shop / "orders.csv"), "--delivery-log", str(shop / "delivery_log.jsonl.gz"),
                 "--platform-reports", str(shop / "platform_reports.csv"), "--warehouse", str(warehouse),
                 "--report", str(report), cwd=warehouse.parent, url="http://127.0.0.1:s3cr3t-token/hook")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "changed since the previous run: meta conversion_gap pass -> fail" in result.stdout
    assert report.stat().st_size > 1_000_000 and f"Report: {report}" in result.stdout
    assert "s3cr3t" not in result.stdout + result.stderr and "Traceback" not in result.stderr
