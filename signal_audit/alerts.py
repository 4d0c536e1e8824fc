"""Alerts: one Slack-compatible message per check that turned from pass to fail.

The webhook URL comes from the environment only (SIGNAL_AUDIT_WEBHOOK_URL): it is a secret
(anyone holding it can post to the channel), so it is never printed, logged or stored, not
even in part (a malformed URL included). A webhook that cannot be reached never fails the
audit: the caller gets warnings to print, none of them quoting the URL.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from signal_audit.checks.catalog import read_checks
from signal_audit.history import StatusChange
from signal_audit_core.config import PROJECT_DIR

WEBHOOK_ENV = "SIGNAL_AUDIT_WEBHOOK_URL"
TIMEOUT_SECONDS = 10
MALFORMED = f"{WEBHOOK_ENV} is not a valid http(s) URL"
# for the caller's last resort: alerting failed in a way send_alerts did not foresee
ALERTING_FAILED = "the alerts could not be sent (an error while preparing them); no alert was sent"
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")  # whitespace or control characters: http.client refuses them



@dataclass(frozen=True)
class AlertOutcome:
    sent: int = 0
    warnings: list[str] = field(default_factory=list)


def webhook_url() -> str | None:
    return os.environ.get(WEBHOOK_ENV, "").strip() or None


def message(change: StatusChange, display_name: str | None = None) -> dict:
    """The Slack incoming-webhook body: `text` for notifications and clients without blocks."""
    platform = display_name or change.platform.title()
    check = _in_sentence(_titles().get(change.check_name, change.check_name))
    window = f"{change.window_start} to {change.window_end}" if change.window_end else "the audit window"
    headline = f"{platform} {check} turned from PASS to FAIL"
    return {
        "text": f"signal-audit: {headline} ({window}). {change.summary}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": f":rotating_light: {headline}"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": change.summary}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": (
                f"check `{change.check_name}` on `{change.platform}` · window {window} · "
                f"was {change.previous} on the previous run"
            )}]},
        ],
    }


def _titles() -> dict[str, str]:
    """Each check's title, from the checks seed (seeds/checks.csv)."""
    return {check.check_name: check.title for check in read_checks(PROJECT_DIR)}


def _in_sentence(title: str) -> str:
    """"Conversion gap" -> "conversion gap" inside a sentence; "PII hashing" stays."""
    return title[:1].lower() + title[1:] if title[1:2].islower() else title


def webhook_problem(url: str | None = None) -> str | None:
    """Why `url` (default: the environment's) cannot be posted to; None when it can, or is unset.

    Checked before any request: urllib's own errors for a malformed URL quote it (a port
    that is not a number, a space), and the URL is the secret.
    """
    url = url if url is not None else webhook_url()
    if not url:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number or out of range
    except ValueError:
        return MALFORMED
    if parts.scheme not in ("http", "https") or not parts.hostname or _UNSAFE.search(url):
        return MALFORMED
    return None


def send_alerts(
    changes: Sequence[StatusChange],
    display_names: dict[str, str] | None = None,
    url: str | None = None,
) -> AlertOutcome:
    """POST one message per pass -> fail change; no URL configured means no alerts.

    Never raises for a webhook's sake, and no warning holds the URL or an exception's text
    (which can quote the URL): only HTTP status codes and the operating system's words for
    a network error.
    """
    url = url or webhook_url()
    failing = [c for c in changes if c.turned_failing]
    if not url or not failing:
        return AlertOutcome()
    problem = webhook_problem(url)
    if problem:
        return AlertOutcome(0, [f"{problem}; no alert was sent"])
    sent, warnings = 0, []
    for change in failing:
        body = json.dumps(message(change, (display_names or {}).get(change.platform))).encode()
        try:
            request = urllib.request.Request(
                url, data=body, method="POST",
                headers={"Content-Type": "application/json", "User-Agent": "signal-audit"},
            )
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                response.read()
            sent += 1
        except urllib.error.HTTPError as exc:
            warnings.append(f"the alert webhook answered HTTP {exc.code} for {change.platform} "
                            f"{change.check_name}; the alert was not delivered")
        except Exception as exc:  # noqa: BLE001 - any failure to post is a warning, never a crash
            warnings.append(f"the alert webhook could not be reached ({_reason(exc)}); "
                            f"{len(failing) - sent} alert(s) not delivered")
            break  # an unreachable host stays unreachable for the next message
    return AlertOutcome(sent, warnings)


def _reason(exc: BaseException) -> str:
    """Words for a failed request that cannot hold the URL: the OS's text for an errno, or a
    fixed one. (An SSL error's own text names the host, an InvalidURL's the whole URL.)"""
    reason = getattr(exc, "reason", exc) if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, ssl.SSLError):
        return "TLS handshake failed"
    if isinstance(reason, OSError) and isinstance(reason.errno, int) and reason.errno > 0:
        return os.strerror(reason.errno)
    if isinstance(reason, socket.gaierror):
        return "host name not found"
    return "request failed"
