"""`signal-audit`: land the inputs, build the audit, judge it, write the report.

Each subcommand composes the stage functions (pipelines.load, transform, checks, reporting,
alerts, export); `run` is all of them in order. Every command holds the warehouse from its
first step to its last (signal_audit_core/warehouse.py: writers alone, readers side by side), so a
second run started at any moment is told the warehouse is busy. Every mistake a user can make
ends in one sentence on stderr and an exit code, never a traceback (`--debug` shows it).
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from signal_audit import __version__
from signal_audit.progress import Stage
from signal_audit_core.config import (
    PROJECT_DIR,
    TARGETS,
    Config,
    ConfigError,
    InputsConfig,
    load_config,
)
from signal_audit_core.targets import Target, target_of
from signal_audit_core.warehouse import WarehouseBusy, in_use, is_lock_conflict

EXIT_OK, EXIT_CHECKS_FAILED, EXIT_USAGE, EXIT_STAGE_FAILED = 0, 1, 2, 3
DEMO_WAREHOUSE = Path("warehouse") / "demo.duckdb"
DEBUG_ENV = "SIGNAL_AUDIT_DEBUG"


class StageFailed(RuntimeError):
    """A stage could not finish; the message says which and why."""


class UsageError(ValueError):
    """The command line itself is wrong (unknown command, bad option value)."""


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get(DEBUG_ENV) == "1"
    try:
        parser = _parser()
        args, extra = parser.parse_known_args(argv)
        if extra:
            raise UsageError(_unknown_arguments(parser, args.command, extra))
        if args.func is None:
            _parser().print_help()
            return EXIT_USAGE
        return args.func(args)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        print("\nsignal-audit: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            raise
        code, message = _explain(exc)
        if code is None:
            code, message = EXIT_STAGE_FAILED, (
                f"unexpected error ({type(exc).__name__}: {_first_line(exc)}); run again with --debug to see where")
        return _fail(message, code)


def _explain(exc: BaseException) -> tuple[int | None, str]:
    """The exit code and sentence for an error a user can cause; (None, "") for a bug."""
    import duckdb

    from pipelines.files import InputError
    from pipelines.sources.http import SourceError
    from signal_audit.reporting.data import MartsMissing

    if isinstance(exc, ConfigError | InputError | WarehouseBusy | MartsMissing):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, FileNotFoundError):
        return EXIT_USAGE, str(exc) if not exc.filename else f"{exc.filename}: no such file or folder"
    if isinstance(exc, PermissionError):
        return EXIT_USAGE, f"no permission to use {exc.filename or 'a file'}: {exc.strerror}"
    if isinstance(exc, StageFailed | SourceError):
        return EXIT_STAGE_FAILED, str(exc)
    if isinstance(exc, duckdb.CatalogException):
        return EXIT_USAGE, (f"the warehouse has no audit tables yet ({_first_line(exc)}): "
                            "run `signal-audit run` (or `build`) first")
    if isinstance(exc, duckdb.IOException) and is_lock_conflict(exc):
        return EXIT_USAGE, "the warehouse is in use by another process; close it and run again"
    if isinstance(exc, duckdb.Error):
        return EXIT_STAGE_FAILED, f"the warehouse could not be read: {_first_line(exc)}"
    import sqlalchemy

    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None:
        # the stages after the build read through SQLAlchemy: the engine's own error inside it
        # (its text, not SQLAlchemy's, which appends the statement and its parameters)
        code, message = _explain(exc.orig)
        return (code, message) if code is not None else (
            EXIT_STAGE_FAILED, f"the warehouse could not be read: {_first_line(exc.orig)}")
    return None, ""


def _fail(message: str, code: int) -> int:
    print(f"signal-audit: {message}", file=sys.stderr)
    return code


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# ---------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace) -> int:
    config = _config(args)
    demo = not _has_inputs(config)
    if demo:
        config = _with_demo_inputs(config, args)
    _warn_bad_webhook()
    target = target_of(config)
    with target.hold():
        if demo:
            _generate_demo(config, args.demo_profile)
        _load(config, target, reload_all=args.reload_all)
        _build(config, target, full_refresh=args.full_refresh)
        checks = _check(target) if not args.skip_checks else None
        changes = _record_and_alert(target)
        report = _write_report(config, target, args.report, changes)
        _print_scorecard(target)
        missing = _warn_no_data(target)
    print(f"\nReport: {report}")
    if args.gate and checks is not None and not checks.success:
        return EXIT_CHECKS_FAILED
    if args.gate and missing:
        print("signal-audit: --gate fails: a platform without data cannot pass", file=sys.stderr)
        return EXIT_CHECKS_FAILED
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from signal_audit.init_config import InitOptions, write_config

    options = InitOptions(
        orders=tuple(args.orders or ()),
        delivery_log=tuple(args.delivery_log or ()),
        platform_reports=tuple(args.platform_reports or ()),
        warehouse=args.warehouse,
        timezone=args.timezone,
        platforms=tuple(p.strip().lower() for p in (args.platforms or "").split(",") if p.strip()),
    )
    path = Path(args.out)
    result = write_config(path, options, force=args.force)
    load_config(result.path)  # what init writes must load: a broken template fails here, not later
    print(f"wrote {result.path.resolve()}")
    if result.sample is not None:
        renamed = [f"{k} <- '{v}'" for k, v in result.mapped.items() if k != v]
        print(f"  {len(result.mapped)} order columns found in {result.sample.name}"
              + (f", {len(renamed)} under other names: {', '.join(renamed)}" if renamed else ""))
    if result.unmapped_required:
        print(f"  name your export's column for {', '.join(result.unmapped_required)} under orders.columns "
              f"(not found in {result.sample.name})")  # type: ignore[union-attr]
    default = path.name == "signal_audit.yml" and path.resolve().parent == Path.cwd()
    print(f"next: review the file, then run `signal-audit run{'' if default else f' --config {path}'}`")
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
    if not _has_inputs(config):
        raise ConfigError(
            "no inputs: pass --orders, --delivery-log and --platform-reports, or set inputs: in the config"
        )
    target = target_of(config)
    with target.hold():
        _load(config, target, reload_all=args.reload_all)
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    config = _config(args)
    target = target_of(config)
    with target.hold():
        _build(config, target, full_refresh=args.full_refresh)
        _warn_no_data(target)
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    config = _config(args)
    target = target_of(config)
    _warn_bad_webhook()
    with target.hold():
        report = _check(target)
        _record_and_alert(target)
    return EXIT_OK if report.success else EXIT_CHECKS_FAILED


def cmd_scorecard(args: argparse.Namespace) -> int:
    config = _config(args)
    target = target_of(config)
    with target.hold(write=False):
        _print_scorecard(target)
        _warn_no_data(target)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    config = _config(args)
    target = target_of(config)
    with target.hold(write=False):
        path = _write_report(config, target, args.out, ())
    print(f"Report: {path}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from signal_audit.export import export_marts

    config = _config(args)
    out = Path(args.out).resolve()
    target = target_of(config)
    with target.hold(write=False), Stage(f"export the marts as {args.format} to {out}"):
        exported = export_marts(target, out, args.format)
    for table in exported:
        print(f"    {table.path.name}: {table.rows:,} rows")
    return EXIT_OK


# ---------------------------------------------------------------- stages


def _load(config: Config, target: Target, reload_all: bool = False) -> None:
    from pipelines.load import run_load
    from pipelines.working_files import remove_leftovers, temporary_files_in

    working = target.state_dir
    where = "" if target.duckdb_file is not None else f" into {target.label}"
    with Stage(f"load inputs (dlt){where}"):
        # what a killed run left in dlt's folders goes first; this run's copies once loaded
        remove_leftovers(working)
        try:
            with temporary_files_in(working):
                report = run_load(config, reload_all=reload_all, target=target)
        finally:
            remove_leftovers(working)
    for source, counts in report.counts.items():
        note = f", {counts.rejected:,} rejected (see raw.rejected_rows)" if counts.rejected else ""
        if counts.line_items:  # Shopify's export: one row per line item, folded into its order
            note = f", {counts.line_items:,} line-item rows{note}"
        skipped = len(report.skipped.get(source, ()))
        unchanged = f" ({skipped:,} file(s) unchanged since they were loaded, not read again)" if skipped else ""
        print(f"    {source}: {counts.read:,} rows read, {counts.loaded:,} loaded{note}{unchanged}")


def _build(config: Config, target: Target, full_refresh: bool = False) -> None:
    from signal_audit.transform import dbt_build, dbt_folder

    target.ensure_writable()
    target.can_build()
    if not _has_loaded_data(target):
        raise ConfigError(f"the warehouse {target.label} holds no loaded data yet: run `signal-audit load` "
                          "with your inputs (or `signal-audit run`) first")
    with Stage("build models and tests (dbt build)") as stage:
        stage.note("reading the project")
        # nothing loaded since the last build and nothing in the project or settings changed:
        # the build would rewrite the same rows, so dbt skips it (macros/build_state.sql)
        outcome = dbt_build(config.warehouse, config.audit, progress=stage.progress, full_refresh=full_refresh,
                            target=target)
    if outcome.skipped:
        print("    nothing new since the last build (no new data; models, seeds, tests and settings "
              "unchanged): no node rebuilt")
        return
    if not outcome.success:
        if any(is_lock_conflict(failure) for failure in outcome.failures):
            raise in_use(config.warehouse)  # a notebook or BI tool opened the file meanwhile
        details = "\n  ".join(outcome.failures) or f"see {dbt_folder('DBT_LOG_PATH', 'logs') / 'dbt.log'}"
        raise StageFailed(f"dbt build failed:\n  {details}")
    seeds = " (seeds unchanged since they were loaded, not reloaded)" if outcome.seeds_skipped else ""
    print(f"    {outcome.nodes} models, seeds and tests passed{seeds}")


def _has_loaded_data(target: Target) -> bool:
    with target.sql_client() as client:
        return bool(client.execute_sql(
            "select count(*) from information_schema.tables where table_schema = 'raw'")[0][0])


def _check(target: Target):
    from signal_audit.checks.project import gx_dir_of_runs
    from signal_audit.checks.runner import run_checks

    target.ensure_writable()
    with Stage("judge thresholds (Great Expectations)"):
        report = run_checks(target, gx_dir_of_runs())
    for outcome in report.outcomes:
        if outcome.evaluated_rows == 0:
            verdict = "no data"
        elif outcome.success:
            verdict = "passed"
        else:
            verdict = "FAILED for " + ", ".join(outcome.failing_platforms)
        print(f"    {outcome.check_name}: {verdict}")
    for guard in report.guards:
        print(f"    {guard.name}: " + ("passed" if guard.success else "FAILED for " + ", ".join(guard.failing)))
    if report.data_docs_index:
        print(f"    Data Docs: {report.data_docs_index}")
    return report


def _record_and_alert(target: Target) -> list:
    """Keep this run's scorecard in the warehouse's history; alert on pass -> fail."""
    from signal_audit.alerts import ALERTING_FAILED, AlertOutcome, send_alerts, webhook_problem, webhook_url
    from signal_audit.history import record_run

    target.ensure_writable()
    changes = record_run(target)
    for change in changes:
        print(f"    changed since the previous run: {change.platform} {change.check_name} "
              f"{change.previous} -> {change.current}")
    # a broken URL was reported when the command started (_warn_bad_webhook)
    if webhook_url() and webhook_problem() is None and any(c.turned_failing for c in changes):
        try:
            outcome = send_alerts(changes, _display_names(target))
        except Exception:  # noqa: BLE001 - nothing in alerting may fail the audit; its text could hold the URL
            outcome = AlertOutcome(0, [ALERTING_FAILED])
        if outcome.sent:
            print(f"    {outcome.sent} alert(s) posted to the webhook")
        for warning in outcome.warnings:
            print(f"signal-audit: warning: {warning}; the audit result is unaffected", file=sys.stderr)
    return changes


def _warn_bad_webhook() -> None:
    """Say at once that alerts cannot be sent, rather than when a check turns failing."""
    from signal_audit.alerts import webhook_problem

    problem = webhook_problem()
    if problem:
        print(f"signal-audit: warning: {problem}; the audit runs without alerts", file=sys.stderr)


def _write_report(config: Config, target: Target, out: str | None, changes: Sequence) -> Path:
    from signal_audit.reporting import write_report

    configured = getattr(config, "report_path", None)  # `report: {path: ...}` once config.py reads it
    with Stage("write the report (HTML)"):
        return write_report(
            target,
            Path(out).resolve() if out else configured,
            [(c.platform, c.check_name, c.previous, c.current) for c in changes],
        )


def _print_scorecard(target: Target) -> None:
    from signal_audit.reporting.terminal import render_scorecard

    print()
    print(render_scorecard(target))


def _warn_no_data(target: Target) -> list[str]:
    """Say which platforms had nothing to judge in the window; return their names."""
    from signal_audit.reporting.coverage import missing_data

    findings = missing_data(target)
    for finding in findings.warnings:
        print(f"signal-audit: warning: {finding}", file=sys.stderr)
    return list(findings.platforms_without_data)


def _display_names(target: Target) -> dict[str, str]:
    from signal_audit.reporting.data import reading_marts, rows

    try:
        with reading_marts(target) as con:
            return dict(rows(con, "select platform, display_name from reference.platforms"))
    except Exception:  # the names only make the alert nicer
        return {}


# ---------------------------------------------------------------- config


def _config(args: argparse.Namespace) -> Config:
    config_path = Path(args.config) if args.config else _default_config_path()
    warehouse = Path(args.warehouse) if getattr(args, "warehouse", None) else None
    config = load_config(config_path, warehouse=warehouse, target=getattr(args, "target", None))
    flags = InputsConfig(
        orders=tuple(getattr(args, "orders", None) or ()),
        delivery_log=tuple(getattr(args, "delivery_log", None) or ()),
        platform_reports=tuple(getattr(args, "platform_reports", None) or ()),
    )
    if not flags.empty:
        config = replace(config, inputs=flags)
    if config.warehouse.is_dir():
        raise ConfigError(f"the warehouse {config.warehouse} is a folder; name a .duckdb file inside it")
    return config


def _has_inputs(config: Config) -> bool:
    has = getattr(config, "has_inputs", None)  # files, or a database / API source when configured
    return bool(has) if has is not None else not config.inputs.empty


def _default_config_path() -> Path | None:
    candidate = Path("signal_audit.yml")
    return candidate if candidate.is_file() else None


def _with_demo_inputs(config: Config, args: argparse.Namespace) -> Config:
    """No inputs given: audit the demo shop, in its own warehouse unless one was named."""
    warehouse = config.warehouse
    if not args.warehouse and warehouse == load_config(None).warehouse:
        warehouse = (PROJECT_DIR / DEMO_WAREHOUSE).resolve()
    demo_dir = _demo_dir(warehouse)
    inputs = InputsConfig(
        orders=(str(demo_dir / "orders.csv"),),
        delivery_log=(str(demo_dir / "delivery_log.jsonl.gz"),),
        platform_reports=(str(demo_dir / "platform_reports.csv"),),
    )
    return replace(config, warehouse=warehouse, inputs=inputs)


def _demo_dir(warehouse: Path) -> Path:
    return warehouse.parent / "demo_shop"


def _generate_demo(config: Config, profile: str) -> None:
    """Write the demo shop's files (while the warehouse is held: another run may read them)."""
    from signal_audit.demo import generate_shop, preset

    demo_dir = _demo_dir(config.warehouse)
    with Stage(f"generate the demo shop ('{profile}' profile) in {demo_dir}"):
        generate_shop(preset(profile), demo_dir)


# ---------------------------------------------------------------- parser


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one sentence (with a suggestion) instead of a usage dump, and
    options are spelled out: `--gat` is a typo to point out, not `--gate` (argparse's
    abbreviations would also change meaning silently when a later option shares the prefix).
    Subcommands' parsers are of this class too (add_subparsers uses the parent's class)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(_usage_sentence(self.prog, message))


def _usage_sentence(prog: str, message: str) -> str:
    invalid = re.match(r"argument (\S+): invalid choice: '?([^'(]*?)'? \(choose from (.*)\)", message)
    if invalid:
        option, given, choices_text = invalid.groups()
        choices = re.findall(r"'?([\w-]+)'?", choices_text)
        guess = difflib.get_close_matches(given, choices, n=1)
        hint = f" (did you mean '{guess[0]}'?)" if guess else ""
        what = "command" if option in ("COMMAND", "command") else f"value for {option}"
        help_cmd = "signal-audit --help" if what == "command" else f"{prog} --help"
        return f"unknown {what} '{given}'{hint}; choose from {', '.join(choices)} (see `{help_cmd}`)"
    return f"{message} (see `{prog} --help`)"


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Commands listed one a line under "commands:", without argparse's metavar line above them."""

    def __init__(self, prog: str, **kwargs) -> None:
        super().__init__(prog, **kwargs)
        self._action_max_length = 16  # room for the longest command name, so none wraps

    def _format_action(self, action: argparse.Action) -> str:
        text = super()._format_action(action)
        if action.nargs == argparse.PARSER:
            text = "\n".join(text.split("\n")[1:])
        return text


def _unknown_arguments(parser: argparse.ArgumentParser, command: str | None, extra: list[str]) -> str:
    sub = getattr(parser, "commands", {}).get(command, parser)
    options = [o for action in sub._actions for o in action.option_strings]
    first = extra[0]
    guess = difflib.get_close_matches(first.split("=")[0], options, n=1) if first.startswith("-") else []
    hint = f" (did you mean {guess[0]}?)" if guess else ""
    return f"unrecognized arguments: {' '.join(extra)}{hint} (see `{sub.prog} --help`)"


_EXAMPLES = """\
examples:
  signal-audit run                          audit the bundled demo shop (no inputs needed)
  signal-audit init --orders exports/orders.csv
                                            write signal_audit.yml for your data, columns mapped
  signal-audit run                          audit your data once signal_audit.yml names it
  signal-audit run --gate                   the same, exit 1 when a check fails (CI)
  signal-audit export --out bi/             every mart as Parquet, for BI tools

exit codes:
  0  done (a run that found failing checks still exits 0 unless --gate)
  1  a check failed (check, run --gate), or --gate met a platform without data
  2  a mistake in the command, the inputs or the settings (the message says which)
  3  a stage failed (dbt build errors, an unreadable warehouse)

Settings: signal_audit.yml (see `signal-audit init`) and docs/settings.md.
Alerts: set SIGNAL_AUDIT_WEBHOOK_URL to a Slack-compatible webhook to hear when a check turns to fail.
"""


def _parser() -> argparse.ArgumentParser:
    from signal_audit.demo import PRESETS

    def formatter(prog: str) -> argparse.HelpFormatter:
        return _HelpFormatter(prog, max_help_position=28, width=100)

    def sub_formatter(prog: str) -> argparse.HelpFormatter:
        return argparse.HelpFormatter(prog, max_help_position=28, width=100)

    parser = _Parser(
        prog="signal-audit",
        formatter_class=formatter,
        description=(
            "Is your server-side ad tracking working? signal-audit compares your backend orders with\n"
            "what your setup sent to Meta, TikTok and Snap and what each platform counted, inside a\n"
            "DuckDB warehouse, and writes an HTML report with the scorecard and charts."
        ),
        epilog=_EXAMPLES,
    )
    parser.set_defaults(func=None)
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an unexpected error")
    parser.add_argument("--version", action="version", version=f"signal-audit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def command(name: str, func: Callable[[argparse.Namespace], int], help_: str,
                warehouse: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_, formatter_class=sub_formatter)
        p.set_defaults(func=func)
        p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
        if warehouse:
            p.add_argument("--config", metavar="FILE", help="settings file (default: ./signal_audit.yml when present)")
            p.add_argument(
                "--warehouse", metavar="PATH",
                help="DuckDB file (default: warehouse/signal_audit.duckdb, or $SIGNAL_AUDIT_WAREHOUSE)",
            )
            p.add_argument(
                "--target", choices=TARGETS, metavar="ENGINE",
                help="where the audit lands and builds: duckdb (default, the --warehouse file), postgres "
                     "(the database dlt's DESTINATION__POSTGRES__CREDENTIALS__* settings name) or spark "
                     "(Parquet in $SIGNAL_AUDIT_RAW_LAKE, dbt-spark with Java 17; docs/engines.md); "
                     "or $SIGNAL_AUDIT_TARGET",
            )
        return p

    def full_refresh_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument("--full-refresh", action="store_true",
                       help="rebuild every model from all the data, not only what arrived since the "
                            "last build (done by itself when settings, seeds or models changed)")

    def reload_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument("--reload-all", action="store_true",
                       help="read every input file again, even those loaded before unchanged")

    def inputs(p: argparse.ArgumentParser) -> None:
        p.add_argument("--orders", nargs="+", metavar="PATH",
                       help="backend orders: CSV, Parquet or JSONL files or globs")
        p.add_argument("--delivery-log", nargs="+", metavar="PATH",
                       help="event delivery log: JSONL(.gz) files or globs")
        p.add_argument("--platform-reports", nargs="+", metavar="PATH",
                       help="platform daily reports: CSV files or globs")

    run = command("run", cmd_run, "Load the inputs, build the audit, run the checks, write the HTML report "
                  "and print the scorecard. Without inputs, audits the demo shop.")
    inputs(run)
    run.add_argument("--demo-profile", default="broken", choices=PRESETS, metavar="PROFILE",
                     help=f"demo shop to audit when no inputs are given: {', '.join(PRESETS)} (default: broken)")
    run.add_argument("--gate", action="store_true",
                     help="exit 1 when a check fails or a platform has no data (for CI); "
                          "without it a run that found failures exits 0")
    run.add_argument("--skip-checks", action="store_true", help="skip the Great Expectations run")
    reload_flag(run)
    full_refresh_flag(run)
    run.add_argument("--report", metavar="FILE",
                     help="where to write the HTML report "
                          "(default: <warehouse folder>/report/signal_audit_report.html; on postgres, "
                          "<warehouse folder>/postgres-<host>-<port>-<database>/report/)")

    init = command("init", cmd_init, "Write a commented signal_audit.yml for your data: inputs, the column "
                   "mapping of your orders export, platforms, time zone and thresholds.", warehouse=False)
    inputs(init)
    init.add_argument("--out", default="signal_audit.yml", metavar="FILE",
                      help="file to write (default: ./signal_audit.yml)")
    init.add_argument("--force", action="store_true", help="overwrite the file if it exists")
    init.add_argument("--warehouse", metavar="PATH", help="DuckDB file to write to the config")
    init.add_argument("--timezone", metavar="ZONE",
                      help="your reporting time zone, IANA name such as Europe/Berlin (default: UTC)")
    init.add_argument("--platforms", metavar="LIST",
                      help="comma-separated platforms you use, e.g. meta,tiktok (default: meta,tiktok,snap)")

    demo = sub.add_parser("demo", help="Write a demo shop's input files (deterministic).",
                          description="Write a demo shop's input files (deterministic).",
                          formatter_class=sub_formatter)
    demo.set_defaults(func=cmd_demo)
    demo.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    demo.add_argument("--profile", default="broken", choices=PRESETS, metavar="PROFILE",
                      help=f"{', '.join(PRESETS)} (default: broken)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--out", default="demo_shop", help="folder to write to (default: ./demo_shop)")

    load = command("load", cmd_load, "Land new or changed input files, and configured database and API sources, "
                   "in the warehouse's raw schema (dlt).")
    inputs(load)
    reload_flag(load)
    full_refresh_flag(command("build", cmd_build, "Build the models and run dbt's tests (dbt build)."))
    command("check", cmd_check, "Run the Great Expectations suites; exit 1 when a check fails.")
    command("scorecard", cmd_scorecard, "Print the scorecard from the warehouse.")
    report = command("report", cmd_report, "Write the HTML report from the warehouse (read-only).")
    report.add_argument("--out", metavar="FILE",
                        help="default: <warehouse folder>/report/signal_audit_report.html; on postgres, "
                             "<warehouse folder>/postgres-<host>-<port>-<database>/report/")
    export = command("export", cmd_export, "Write every mart (marts.*) as one file per table, for BI tools "
                     "that read files; reads the warehouse read-only.")
    export.add_argument("--format", default="parquet", choices=("parquet", "csv"), help="default: parquet")
    export.add_argument("--out", required=True, metavar="DIR", help="folder to write to")
    parser.commands = dict(sub.choices)  # type: ignore[attr-defined]
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
