"""The models follow the house SQL style (.sqlfluff: dbt templater, DuckDB; lowercase keywords,
trailing commas, explicit aliases, cast() not ::). The lint compiles every model as dbt does, so it
needs a warehouse where `dbt seed` ran (a few macros read seeds and watermarks at compile time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest
from sqlfluff.core import FluffConfig, Linter

from signal_audit.transform import dbt_executable
from signal_audit_core.config import PROJECT_DIR, WAREHOUSE_ENV

# what fixes most of them (the rest are named in the message): seed a scratch warehouse, then fix
FIX = ("export SIGNAL_AUDIT_WAREHOUSE=/tmp/lint.duckdb DBT_TARGET_PATH=/tmp/lint-target; "
       "dbt seed && sqlfluff fix models")

HOUSE_STYLE = """\
with

orders as (

    select
        source_orders.order_id,
        cast(source_orders.created_at as date) as created_date,
        upper(source_orders.currency) as currency_code
    from raw.orders as source_orders
    where source_orders.status is not null

)

select * from orders
"""

OFF_STYLE = """\
WITH orders AS (
    SELECT order_id
        , created_at::date created_date
    FROM raw.orders source_orders
)
select * from orders
"""


def raw_linter() -> Linter:
    """The project's rules on a SQL string: the same .sqlfluff, without dbt's compilation."""
    return Linter(config=FluffConfig.from_path(str(PROJECT_DIR), overrides={"templater": "raw"}))


def test_house_style_passes_and_each_convention_is_enforced():
    assert raw_linter().lint_string(HOUSE_STYLE).get_violations() == []
    codes = {v.rule_code() for v in raw_linter().lint_string(OFF_STYLE).get_violations()}
    assert {"CP01", "LT04", "AL01", "AL02", "CV11"} <= codes, codes  # case, commas, aliases, casts


@pytest.fixture(scope="module")
def lint(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """`sqlfluff lint models` as CI runs it, against a fresh warehouse that holds only the seeds."""
    root = tmp_path_factory.mktemp("sqlfluff")
    env = {
        **os.environ,
        WAREHOUSE_ENV: str(root / "lint.duckdb"),
        "DBT_TARGET_PATH": str(root / "target"),  # not the project's target/
        "DBT_LOG_PATH": str(root / "logs"),
        "DO_NOT_TRACK": "1",
    }
    seeded = subprocess.run(
        [dbt_executable(), "seed", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)],
        env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert seeded.returncode == 0, seeded.stdout[-3000:] + seeded.stderr[-3000:]
    linted = subprocess.run(
        [sys.executable, "-m", "sqlfluff", "lint", "models", "--format", "json", "--nofail"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=1800, check=False,
    )
    assert linted.returncode == 0, linted.stderr[-3000:]
    return json.loads(linted.stdout)


def test_every_model_compiles_for_the_linter(lint):
    """A model dbt cannot compile is skipped by sqlfluff with only a warning: count them."""
    models = {p.relative_to(PROJECT_DIR).as_posix() for p in (PROJECT_DIR / "models").rglob("*.sql")}
    linted = {(PROJECT_DIR / f["filepath"]).resolve().relative_to(PROJECT_DIR).as_posix() for f in lint}
    assert models - linted == set()


def test_models_lint_clean(lint):
    violations = [(f["filepath"], v) for f in lint for v in f["violations"]]
    by_rule = Counter(v["code"] for _, v in violations)
    examples = "\n".join(f"  {path}:{v['start_line_no']} {v['code']} {v['description']}"
                         for path, v in violations[:20])
    assert not violations, f"{len(violations)} violations {dict(by_rule.most_common())}; most are fixed by: {FIX}\n" \
        + examples
