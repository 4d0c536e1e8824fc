"""Python imports run one way: signal_audit (the CLI) -> pipelines (the loaders) ->
signal_audit_core (settings, PII, warehouse access). A loader never imports the CLI package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imported(package: str) -> dict[str, set[str]]:
    """Module path -> the top-level packages it imports (at any depth, lazy imports included)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(("package", "forbidden"), [
    ("pipelines", {"signal_audit"}),
    ("signal_audit_core", {"signal_audit", "pipelines"}),
])
def test_imports_run_one_way(package: str, forbidden: set[str]):
    modules = _imported(package)
    assert modules, f"no modules found under {package}/"
    assert {path: names & forbidden for path, names in modules.items() if names & forbidden} == {}
