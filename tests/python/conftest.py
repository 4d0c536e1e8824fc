from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from audit_harness import AuditedShop, audit_shop

from signal_audit.demo import preset

_CACHE: dict[str, AuditedShop] = {}

# What an audit through the CLI writes beside the warehouse but inside the project: dbt's
# target/ and logs/, GX's run folder. `make test` runs the files on two pytest-xdist workers,
# so each worker gets its own (dbt's DBT_TARGET_PATH and DBT_LOG_PATH, $SIGNAL_AUDIT_GX_DIR);
# two builds sharing one target/ would read each other's run_results.json.
RUN_OUTPUTS = {"DBT_TARGET_PATH": "target", "DBT_LOG_PATH": "logs", "SIGNAL_AUDIT_GX_DIR": "gx"}


@pytest.fixture(scope="session", autouse=True)
def run_outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """This worker's folders for what the CLI writes per run (RUN_OUTPUTS), by name."""
    root = tmp_path_factory.mktemp("run-outputs")
    folders = {name: root / name for name in RUN_OUTPUTS.values()}
    with pytest.MonkeyPatch.context() as env:
        for var, name in RUN_OUTPUTS.items():
            env.setenv(var, str(folders[name]))
        yield folders


@pytest.fixture(scope="session")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], AuditedShop]:
    """The whole audit run once per demo preset per test session, then shared (read-only)."""

    def run(name: str) -> AuditedShop:
        if name not in _CACHE:
            root: Path = tmp_path_factory.mktemp(f"shop-{name}")
            _CACHE[name] = audit_shop(preset(name), root)
        return _CACHE[name]

    return run
