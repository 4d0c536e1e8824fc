"""Alerts: one Slack-compatible message per check that turned from pass to fail.

The webhook URL comes from the environment only (SIGNAL_AUDIT_WEBHOOK_URL): it is a secret
(anyone holding it can post to the channel), so it is never printed, logged or stored. A
webhook that cannot be reached never fails the audit: the caller gets warnings to print.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from signal_audit.history import StatusChange

WEBHOOK_ENV = "SIGNAL_AUDIT_WEBHOOK_URL"
TIMEOUT_SECONDS = 10

_CHECK_TITLE = {
    "conversion_gap": "conversion gap", "match_quality": "match quality", "email_coverage": "email coverage",
    "field_coverage": "required fields", "deduplication": "deduplication", "timeliness": "timeliness",
    "pii_hashing": "PII hashing",
}


@dataclass(frozen=True)
class AlertOutcome:
    sent: int = 0
    warnings: list[str] = field(default_factory=list)


def webhook_url() -> str | None:
    return os.environ.get(WEBHOOK_ENV, "").strip() or None


def message(change: StatusChange, display_name: str | None = None) -> dict:
    """The Slack incoming-webhook body: `text` for notifications and clients without blocks."""
    platform = display_name or change.platform.title()
    check = _CHECK_TITLE.get(change.check_name, change.check_name)
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


def send_alerts(
    changes: Sequence[StatusChange],
    display_names: dict[str, str] | None = None,
    url: str | None = None,
) -> AlertOutcome:
    """POST one message per pass -> fail change; no URL configured means no alerts."""
    url = url or webhook_url()
    failing = [c for c in changes if c.turned_failing]
    if not url or not failing:
        return AlertOutcome()
    if urlsplit(url).scheme not in ("http", "https"):
        return AlertOutcome(0, [f"{WEBHOOK_ENV} is not an http(s) URL; no alert was sent"])
    sent, warnings = 0, []
    for change in failing:
        body = json.dumps(message(change, (display_names or {}).get(change.platform))).encode()
        request = urllib.request.Request(
            url, data=body, method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "signal-audit"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                response.read()
            sent += 1
        except urllib.error.HTTPError as exc:
            warnings.append(f"the alert webhook answered HTTP {exc.code} for {change.platform} "
                            f"{change.check_name}; the alert was not delivered")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            warnings.append(f"the alert webhook could not be reached ({_safe(reason, url)}); "
                            f"{len(failing) - sent} alert(s) not delivered")
            break  # an unreachable host stays unreachable for the next message
    return AlertOutcome(sent, warnings)


def _safe(reason: object, url: str) -> str:
    """The reason without anything that could echo the URL (or its host) back."""
    text = str(reason).replace(url, "<webhook>")
    host = urlsplit(url).hostname
    return text.replace(host, "<webhook host>") if host else text
