"""`signal-audit`: land the inputs, build the audit, judge it, print the scorecard.

Each subcommand composes the stage functions (pipelines.load, transform, checks, report);
`run` is all of them in order, one process at a time on the DuckDB file.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from signal_audit.config import (
    PROJECT_DIR,
    Config,
    ConfigError,
    InputsConfig,
    load_config,
)
from signal_audit.warehouse import WarehouseBusy, ensure_writable

EXIT_OK, EXIT_CHECKS_FAILED, EXIT_USAGE, EXIT_STAGE_FAILED = 0, 1, 2, 3
DEMO_WAREHOUSE = Path("warehouse") / "demo.duckdb"


class StageFailed(RuntimeError):
    """A stage could not finish; the message says which and why."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, WarehouseBusy, FileNotFoundError, StageFailed) as exc:
        print(f"signal-audit: {exc}", file=sys.stderr)
        return EXIT_STAGE_FAILED if isinstance(exc, StageFailed) else EXIT_USAGE
    except KeyboardInterrupt:
        print("signal-audit: interrupted", file=sys.stderr)
        return 130


# ---------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace) -> int:
    config = _config(args)
    if config.inputs.empty:
        config = _with_demo_inputs(config, args)
    _load(config)
    _build(config)
    report = _check(config) if not args.skip_checks else None
    _print_scorecard(config)
    if report is not None and not report.success and args.gate:
        return EXIT_CHECKS_FAILED
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from signal_audit.demo import generate_shop, preset

    out = Path(args.out).resolve()
    shop = replace(preset(args.profile), seed=args.seed)
    started = time.monotonic()
    generate_shop(shop, out)
    print(f"demo shop '{args.profile}' (seed {args.seed}) written to {out} in {time.monotonic() - started:.1f} s")
    for name in ("orders.csv", "delivery_log.jsonl.gz", "platform_reports.csv", "truth.json"):
        print(f"  {out / name}")
    return EXIT_OK


def cmd_load(args: argparse.Namespace) -> int:
    config = _config(args)
    if config.inputs.empty:
        raise ConfigError(
            "no inputs: pass --orders, --delivery-log and --platform-reports, or set inputs: in the config"
        )
    _load(config)
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    _build(_config(args))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    report = _check(_config(args))
    return EXIT_OK if report.success else EXIT_CHECKS_FAILED


def cmd_scorecard(args: argparse.Namespace) -> int:
    _print_scorecard(_config(args))
    return EXIT_OK


# ---------------------------------------------------------------- stages


def _load(config: Config) -> None:
    from pipelines.files import InputError
    from pipelines.load import run_load

    with _stage("load inputs (dlt)"):
        try:
            report = run_load(config)
        except InputError as exc:
            raise ConfigError(str(exc)) from exc
    for source, counts in report.counts.items():
        note = f", {counts.rejected:,} rejected (see raw.rejected_rows)" if counts.rejected else ""
        print(f"    {source}: {counts.read:,} rows read, {counts.loaded:,} loaded{note}")


def _build(config: Config) -> None:
    from signal_audit.transform import dbt_build

    ensure_writable(config.warehouse)
    with _stage("build models and tests (dbt build)"):
        outcome = dbt_build(config.warehouse, config.audit)
    if not outcome.success:
        details = "\n  ".join(outcome.failures) or "see logs/dbt.log"
        raise StageFailed(f"dbt build failed:\n  {details}")
    print(f"    {outcome.nodes} models, seeds and tests passed")


def _check(config: Config):
    from signal_audit.checks.runner import run_checks

    ensure_writable(config.warehouse)
    with _stage("judge thresholds (Great Expectations)"):
        report = run_checks(config.warehouse, config.warehouse.parent / "gx")
    for outcome in report.outcomes:
        if outcome.evaluated_rows == 0:
            verdict = "no data"
        elif outcome.success:
            verdict = "passed"
        else:
            verdict = "FAILED for " + ", ".join(outcome.failing_platforms)
        print(f"    {outcome.check_name}: {verdict}")
    if report.data_docs_index:
        print(f"    Data Docs: {report.data_docs_index}")
    return report


def _print_scorecard(config: Config) -> None:
    from signal_audit.report import render_scorecard

    print()
    print(render_scorecard(config.warehouse))


class _stage:
    """Print a stage's name and how long it took."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self.started = time.monotonic()
        print(f"==> {self.name}", flush=True)

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            print(f"    done in {time.monotonic() - self.started:.1f} s", flush=True)


# ---------------------------------------------------------------- config


def _config(args: argparse.Namespace) -> Config:
    config_path = Path(args.config) if args.config else _default_config_path()
    warehouse = Path(args.warehouse) if getattr(args, "warehouse", None) else None
    config = load_config(config_path, warehouse=warehouse)
    flags = InputsConfig(
        orders=tuple(getattr(args, "orders", None) or ()),
        delivery_log=tuple(getattr(args, "delivery_log", None) or ()),
        platform_reports=tuple(getattr(args, "platform_reports", None) or ()),
    )
    if not flags.empty:
        config = replace(config, inputs=flags)
    return config


def _default_config_path() -> Path | None:
    candidate = Path("signal_audit.yml")
    return candidate if candidate.is_file() else None


def _with_demo_inputs(config: Config, args: argparse.Namespace) -> Config:
    """No inputs given: audit the demo shop, in its own warehouse unless one was named."""
    from signal_audit.demo import generate_shop, preset

    warehouse = config.warehouse
    if not args.warehouse and warehouse == load_config(None).warehouse:
        warehouse = (PROJECT_DIR / DEMO_WAREHOUSE).resolve()
    demo_dir = warehouse.parent / "demo_shop"
    with _stage(f"generate the demo shop ('{args.demo_profile}' profile) in {demo_dir}"):
        generate_shop(preset(args.demo_profile), demo_dir)
    inputs = InputsConfig(
        orders=(str(demo_dir / "orders.csv"),),
        delivery_log=(str(demo_dir / "delivery_log.jsonl.gz"),),
        platform_reports=(str(demo_dir / "platform_reports.csv"),),
    )
    return replace(config, warehouse=warehouse, inputs=inputs)


# ---------------------------------------------------------------- parser


def _parser() -> argparse.ArgumentParser:
    from signal_audit.demo import PRESETS

    parser = argparse.ArgumentParser(
        prog="signal-audit",
        description=(
            "Audit server-side ad tracking (Meta CAPI, TikTok Events API, Snap CAPI) against "
            "your backend orders, inside a DuckDB warehouse."
        ),
        epilog="Run `signal-audit run` with no inputs to audit the bundled demo shop.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        p.add_argument("--config", metavar="FILE", help="settings file (default: ./signal_audit.yml when present)")
        p.add_argument(
            "--warehouse", metavar="PATH",
            help="DuckDB file (default: warehouse/signal_audit.duckdb, or $SIGNAL_AUDIT_WAREHOUSE)",
        )
        return p

    def inputs(p: argparse.ArgumentParser) -> None:
        p.add_argument("--orders", nargs="+", metavar="PATH",
                       help="backend orders: CSV, Parquet or JSONL files or globs")
        p.add_argument("--delivery-log", nargs="+", metavar="PATH",
                       help="event delivery log: JSONL(.gz) files or globs")
        p.add_argument("--platform-reports", nargs="+", metavar="PATH",
                       help="platform daily reports: CSV files or globs")

    run = command("run", cmd_run, "Load the inputs, build the audit, run the checks and print the scorecard.")
    inputs(run)
    run.add_argument("--demo-profile", default="broken", choices=PRESETS,
                     help="demo shop to audit when no inputs are given (default: broken)")
    run.add_argument("--gate", action="store_true",
                     help="exit 1 when any check fails (for CI); without it a run that found failures exits 0")
    run.add_argument("--skip-checks", action="store_true", help="skip the Great Expectations run")

    demo = sub.add_parser("demo", help="Write a demo shop's input files (deterministic).")
    demo.set_defaults(func=cmd_demo)
    demo.add_argument("--profile", default="broken", choices=PRESETS)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--out", default="demo_shop", help="folder to write to (default: ./demo_shop)")

    inputs(command("load", cmd_load, "Land the input files in the warehouse's raw schema (dlt)."))
    command("build", cmd_build, "Build the models and run dbt's tests (dbt build).")
    command("check", cmd_check, "Run the Great Expectations suites; exit 1 when a check fails.")
    command("scorecard", cmd_scorecard, "Print the scorecard from the warehouse.")
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
