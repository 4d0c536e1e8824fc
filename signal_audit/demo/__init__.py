"""The demo shop: a seeded fake shop whose defects, and so the audit's answers, are known."""

from signal_audit.demo.generator import generate_shop
from signal_audit.demo.profiles import PRESETS, PlatformDefects, ShopConfig, preset
from signal_audit.demo.truth import Truth

__all__ = ["PRESETS", "PlatformDefects", "ShopConfig", "Truth", "generate_shop", "preset"]
