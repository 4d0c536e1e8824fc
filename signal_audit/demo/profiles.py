"""What the demo shop looks like: its orders and, per platform, the tracking defects planted in it.

Every defect is a rate or a rule, so the right answers of an audit follow by construction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

PLATFORMS = ("meta", "tiktok", "snap")
PATHS = ("web_account", "web_guest", "app", "pos")
WEB_PATHS = frozenset({"web_account", "web_guest"})


@dataclass(frozen=True)
class PlatformDefects:
    skip_server_paths: frozenset[str] = frozenset()  # purchase paths never sent server-side
    server_skip_rate: float = 0.0  # extra random share of remaining orders not sent server-side
    server_reject_rate: float = 0.0  # share of server requests that fail (native error response)
    browser_rate: float = 0.95  # share of web orders whose pixel fires (the rest: blockers)
    dedup_mismatch_rate: float = 0.0  # browser purchases whose event_id differs from the server's
    email_rate: float = 0.97  # server purchases carrying a hashed email (when the order has one)
    phone_rate: float = 0.7  # same for the phone
    plaintext_phone_rate: float = 0.0  # of events carrying a phone: sent as the shop typed it
    # Of events carrying an email: hashed without trim/lowercase. Only raw emails that are not
    # already normalized end up with a (valid-looking) mismatching hash.
    unnormalized_email_rate: float = 0.0
    missing_currency_rate: float = 0.0
    string_value_rate: float = 0.0  # value sent as a string like "12,99"
    late_rate: float = 0.0  # share of server requests sent 2-10 days after the order
    batch_size: int = 1  # server events per request (consecutive orders; one failure fails all)
    omit_order_id_rate: float = 0.0  # events without order_id (event_id == order_id still links)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_rate") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} must be between 0 and 1, got {value!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size!r}")
        unknown = set(self.skip_server_paths) - set(PATHS)
        if unknown:
            known = ", ".join(PATHS)
            raise ValueError(f"unknown purchase path(s) {sorted(unknown)}; known: {known}")


def _default_path_mix() -> dict[str, float]:
    return {"web_account": 0.45, "web_guest": 0.25, "app": 0.20, "pos": 0.10}


def _default_platforms() -> dict[str, PlatformDefects]:
    return {platform: PlatformDefects() for platform in PLATFORMS}


@dataclass(frozen=True)
class ShopConfig:
    seed: int = 7
    end_date: dt.date = dt.date(2026, 10, 31)
    days: int = 35
    orders_per_day: int = 60  # mean; each day varies by up to +-20%
    path_mix: Mapping[str, float] = field(default_factory=_default_path_mix)
    not_counted_rate: float = 0.04  # status cancelled or pending
    test_order_rate: float = 0.01  # is_test = true, never counted
    platforms: Mapping[str, PlatformDefects] = field(default_factory=_default_platforms)

    def __post_init__(self) -> None:
        if self.days < 1 or self.orders_per_day < 1:
            raise ValueError("days and orders_per_day must be at least 1")
        if set(self.path_mix) - set(PATHS) or sum(self.path_mix.values()) <= 0:
            raise ValueError(f"path_mix needs positive shares for paths among {', '.join(PATHS)}")
        if set(self.platforms) - set(PLATFORMS):
            raise ValueError(f"platforms must be among {', '.join(PLATFORMS)}")
        for name in ("not_counted_rate", "test_order_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")

    @property
    def start_date(self) -> dt.date:
        return self.end_date - dt.timedelta(days=self.days - 1)

    @property
    def dates(self) -> list[dt.date]:
        return [self.start_date + dt.timedelta(days=i) for i in range(self.days)]

    @property
    def platform_names(self) -> tuple[str, ...]:
        """The configured platforms in a fixed order, so output never depends on dict order."""
        return tuple(p for p in PLATFORMS if p in self.platforms)


_HEALTHY = PlatformDefects(server_reject_rate=0.01, dedup_mismatch_rate=0.02, email_rate=0.99,
                           phone_rate=0.95)

PRESETS = ("healthy", "broken", "over_reporting", "messy_payloads")


def preset(name: str, **overrides: object) -> ShopConfig:
    """A named demo shop; `overrides` replace ShopConfig fields (e.g. seed, days)."""
    if name == "healthy":
        # Every path sent by every platform, nearly all valid: passes the whole scorecard.
        platforms = {p: _HEALTHY for p in PLATFORMS}
    elif name == "broken":
        # The default demo: one typical defect per platform, plus payload sloppiness.
        platforms = {
            "meta": PlatformDefects(
                skip_server_paths=frozenset({"web_guest", "app"}),
                late_rate=0.06, missing_currency_rate=0.03, string_value_rate=0.02,
            ),
            "tiktok": PlatformDefects(
                dedup_mismatch_rate=0.30, plaintext_phone_rate=0.10, unnormalized_email_rate=0.25,
            ),
            "snap": PlatformDefects(server_reject_rate=0.15),
        }
    elif name == "over_reporting":
        # TikTok double counts every web purchase while app and POS never reach it: the platform
        # reports more purchases than the backend although whole paths are missing.
        platforms = {
            "meta": _HEALTHY,
            "tiktok": PlatformDefects(
                dedup_mismatch_rate=1.0, skip_server_paths=frozenset({"app", "pos"}),
            ),
            "snap": _HEALTHY,
        }
    elif name == "messy_payloads":
        # Every path is sent, but the payloads are sloppy at clear rates.
        platforms = {
            "meta": PlatformDefects(
                batch_size=3, late_rate=0.10, unnormalized_email_rate=0.50,
                string_value_rate=0.10, omit_order_id_rate=0.10,
            ),
            "tiktok": PlatformDefects(
                plaintext_phone_rate=0.20, missing_currency_rate=0.10, late_rate=0.08,
            ),
            "snap": PlatformDefects(
                plaintext_phone_rate=0.05, string_value_rate=0.05, unnormalized_email_rate=0.50,
            ),
        }
    else:
        raise ValueError(f"unknown preset '{name}'; known: {', '.join(PRESETS)}")
    return dataclasses.replace(ShopConfig(platforms=platforms), **overrides)
