from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from audit_harness import AuditedShop, audit_shop

from signal_audit.demo import preset

_CACHE: dict[str, AuditedShop] = {}


@pytest.fixture(scope="session")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], AuditedShop]:
    """The whole audit run once per demo preset per test session, then shared (read-only)."""

    def run(name: str) -> AuditedShop:
        if name not in _CACHE:
            root: Path = tmp_path_factory.mktemp(f"shop-{name}")
            _CACHE[name] = audit_shop(preset(name), root)
        return _CACHE[name]

    return run
