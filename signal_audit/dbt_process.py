"""`dbt build` that skips what cannot change, in one dbt process (run by signal_audit/transform.py).

    python -m signal_audit.dbt_process {check-state|no-state} DBT_FLAGS... -- BUILD_FLAGS...

The project is parsed once; then `run-operation audit_build_state` (macros/build_state.sql)
says whether every node was built from this project, these settings and this data
(`current`) and whether every seed's table holds its file (`seeds_current`); then `dbt build`
runs with the same parsed project, unless it is current, and without the seeds when they
are. One process instead of two: dbt's start-up and parse are most of a daily build.

Prints, besides dbt's own log lines, one JSON line `{"signal_audit_build_state": {...}}`.
Exit codes are dbt's: 0 done, 1 a node failed, 2 dbt could not run.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

STATE_KEY = "signal_audit_build_state"


def main(argv: list[str]) -> int:
    from dbt.cli.main import dbtRunner

    mode, rest = argv[0], argv[1:]
    split = rest.index("--") if "--" in rest else len(rest)
    dbt_flags, build_flags = rest[:split], rest[split + 1:]
    parsed = dbtRunner().invoke(["parse", *dbt_flags])
    if not parsed.success or parsed.result is None:
        return 2
    runner = dbtRunner(manifest=parsed.result)
    state = {"current": False, "seeds_current": False}
    if mode == "check-state":
        printed: list[str] = []  # the macro prints its answer: dbt's PrintEvent

        def keep_prints(event: Any) -> None:
            if event.info.name == "PrintEvent":
                printed.append(event.data.msg)

        ran = dbtRunner(manifest=parsed.result, callbacks=[keep_prints]).invoke(
            ["--quiet", "run-operation", "audit_build_state", *dbt_flags])
        state = _state(printed) if ran.success else state
        # its run_results.json is not the build's: a build that fails early must not leave it
        target = dbt_flags[dbt_flags.index("--target-path") + 1] if "--target-path" in dbt_flags else "target"
        (Path(target) / "run_results.json").unlink(missing_ok=True)
    print(json.dumps({STATE_KEY: state}), flush=True)
    if state["current"]:
        return 0
    seeds = ["--exclude-resource-type", "seed"] if state["seeds_current"] else []
    built = runner.invoke(["build", *build_flags, *seeds, *dbt_flags])
    if built.exception is not None:
        return 2
    return 0 if built.success else 1


def _state(printed: list[str]) -> dict[str, bool]:
    for line in reversed(printed):
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            found = json.loads(line)
            if isinstance(found, dict) and "current" in found:
                return {"current": found["current"] is True, "seeds_current": found["seeds_current"] is True}
    return {"current": False, "seeds_current": False}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
