"""Run dbt (in process) on the warehouse with the user's audit settings as vars."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from signal_audit.config import PROJECT_DIR, WAREHOUSE_ENV


@dataclass(frozen=True)
class DbtOutcome:
    success: bool
    nodes: int
    failures: tuple[str, ...]  # "<node>: <message>" for every error or failed test


def dbt_build(warehouse: Path, audit_vars: dict[str, Any], select: str | None = None) -> DbtOutcome:
    from dbt.cli.main import dbtRunner  # heavy import, only when dbt runs

    os.environ[WAREHOUSE_ENV] = str(warehouse)
    args = [
        "build",
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--vars", json.dumps(audit_vars),
        "--quiet",
    ]
    if select:
        args += ["--select", select]
    result = dbtRunner().invoke(args)
    if result.exception is not None:
        return DbtOutcome(False, 0, (f"dbt could not run: {result.exception}",))
    failures = tuple(
        f"{r.node.name}: {(r.message or '').strip()}"
        for r in result.result or []
        if str(r.status) in ("error", "fail")
    )
    return DbtOutcome(bool(result.success), len(result.result or []), failures)
