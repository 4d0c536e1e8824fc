"""Run `dbt build` on the warehouse with the user's audit settings as vars.

dbt runs in its own process: dbt-duckdb keeps its DuckDB handle open for the life of the
process, and DuckDB refuses a second handle with another configuration (the read-only one
the checks use), so sharing a process would lock the checks out.

The event-level models and the daily marts are incremental (macros/incremental.sql): a daily
run reads only what arrived. The process (signal_audit/dbt_process.py) parses the project once,
asks the warehouse whether anything changed since the last build (macros/build_state.sql) and
builds only if something did, without the seeds when their files did not change. dbt itself
rebuilds a model whose SQL, settings or seeds changed since its last build
(macros/fingerprint.sql), so plain `dbt build` and this agree.

Plain dbt reads the settings in dbt_project.yml `vars:` and `--vars`; `python -m
signal_audit.transform [signal_audit.yml]` prints a settings file's `audit:` section as the
JSON for `dbt build --vars`, validated as `signal-audit` validates it.

The checks' verdicts do not fail this build (`gate_on: none`, macros/gate.sql): `check` and
`run --gate` decide what gates; plain `dbt build` gates by itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from signal_audit.dbt_process import STATE_KEY
from signal_audit_core.config import PROJECT_DIR, ConfigError, load_config
from signal_audit_core.targets import DuckDBTarget, Target


@dataclass(frozen=True)
class DbtOutcome:
    success: bool
    nodes: int
    failures: tuple[str, ...]  # "<node>: <message>" for every error or failed test
    skipped: bool = False  # nothing new and nothing changed: no node ran (macros/build_state.sql)
    seeds_skipped: bool = False  # every seed's table held its file: the seeds were not reloaded


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


# dbt's structured log events that end a node (model, seed, test, unit test)
_RESULT_EVENTS = {"LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult", "LogNodeNoOpResult"}

Progress = Callable[[int, int, str], None]  # (nodes done, nodes in total, name of the last node)


def dbt_build(
    warehouse: Path,
    audit_vars: dict[str, Any],
    target_path: Path | None = None,
    progress: Progress | None = None,
    full_refresh: bool = False,
    target: Target | None = None,
) -> DbtOutcome:
    """`dbt build` in its own process; `progress` is called as each node finishes. Unless
    `full_refresh`, the same process first asks the warehouse whether anything changed since
    the last build (signal_audit/dbt_process.py): if nothing did, no node runs (`skipped`);
    seeds whose files did not change are not reloaded (`seeds_skipped`). `target` (default:
    the DuckDB file `warehouse`) chooses the output of profiles.yml and what dbt's process
    finds in its environment to reach it (signal_audit_core/targets.py)."""
    return _run_dbt_build(target or DuckDBTarget(warehouse), {**audit_vars, "gate_on": "none"}, target_path,
                          progress, full_refresh)


def dbt_folder(variable: str, default: str) -> Path:
    """dbt's target/ or logs/ where plain `dbt build` puts it: $DBT_TARGET_PATH or
    $DBT_LOG_PATH (dbt's own variables, relative to the project) or the default."""
    return PROJECT_DIR / os.environ.get(variable, default)


def _run_dbt_build(
    engine: Target,
    audit_vars: dict[str, Any],
    target_path: Path | None,
    progress: Progress | None,
    full_refresh: bool,
) -> DbtOutcome:
    target = target_path or dbt_folder("DBT_TARGET_PATH", "target")
    command = [
        sys.executable, "-m", "signal_audit.dbt_process", "no-state" if full_refresh else "check-state",
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target", engine.dbt_target,
        "--target-path", str(target),
        "--vars", json.dumps(audit_vars),
        "--log-format", "json",  # one event per line on stdout: progress without parsing prose
        "--log-format-file", "text",
        "--", *(["--full-refresh"] if full_refresh else []),
        # dbt's unit tests pin SQL logic on fixtures, not the user's data: they run in this
        # project's test suite (tests/python/test_dbt_unit_tests.py), as dbt recommends,
        # not in every audit
        "--exclude-resource-type", "unit_test",
    ]
    results_file = target / "run_results.json"
    results_file.unlink(missing_ok=True)  # never read a previous run's results
    # (a password among them reaches dbt's process only, never its command line or a log)
    env = {**os.environ, **engine.dbt_env()}
    errors: list[str] = []
    state: dict[str, bool] = {}
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        done = total = 0
        for line in proc.stdout:
            try:
                event = json.loads(line)
                if STATE_KEY in event:
                    state = event[STATE_KEY]
                    continue
                info, data = event["info"], event.get("data", {})
            except (ValueError, KeyError, TypeError):
                if line.strip():
                    errors.append(line.strip())
                continue
            if info.get("level") == "error" and info.get("msg"):
                errors.append(info["msg"])
            total = data.get("total") or data.get("num_models") or total
            if info.get("name") in _RESULT_EVENTS:
                done += 1
                if progress is not None:
                    progress(done, max(total, done), data.get("node_info", {}).get("node_name", ""))
        returncode = proc.wait()
    engine.after_build(target / "manifest.json")
    if returncode == 0 and state.get("current"):
        return DbtOutcome(True, 0, (), skipped=True)
    if not results_file.exists():
        message = " ".join(_what_to_fix(e) for e in errors[-5:]) or f"exit code {returncode}"
        return DbtOutcome(False, 0, (f"dbt could not run: {message}",))
    results = json.loads(results_file.read_text())["results"]
    failures = tuple(
        f"{r['unique_id']}: {(r.get('message') or '').strip()}"
        for r in results
        if r["status"] in ("error", "fail")
    )
    return DbtOutcome(returncode == 0, len(results), failures, seeds_skipped=bool(state.get("seeds_current")))


def _what_to_fix(error: str) -> str:
    """dbt's error message without its header and macro trace (e.g. the one sentence of
    macros/preflight.sql on an empty warehouse)."""
    lines = [line.strip() for line in error.splitlines()]
    kept = [line for line in lines if line and not line.startswith(">")
            and line != "Encountered an error:" and " Error in operation " not in line]
    return " ".join(kept) or error.strip()


def settings_as_dbt_vars(config_path: Path | None) -> str:
    """The `audit:` settings of a signal_audit.yml (none: the defaults), validated, as JSON
    for `dbt --vars`."""
    return json.dumps(load_config(config_path).audit, default=str)


def main(argv: list[str]) -> int:
    """`python -m signal_audit.transform [FILE]` prints FILE's (default ./signal_audit.yml when
    present) settings for plain dbt: `dbt build --vars "$(python -m signal_audit.transform)"`."""
    default = Path("signal_audit.yml")
    try:
        print(settings_as_dbt_vars(Path(argv[0]) if argv else default if default.is_file() else None))
    except ConfigError as exc:
        print(f"signal-audit: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
