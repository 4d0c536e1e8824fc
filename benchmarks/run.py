"""Benchmark: a year of a mid-size shop through the whole audit, against DuckDB alone.

    .venv/bin/python benchmarks/run.py                    # 365 days x 2,740 orders, 3 runs
    .venv/bin/python benchmarks/run.py --days 30 --runs 1 # a quick look
    .venv/bin/python benchmarks/run.py --orders-per-day 27400 --runs 1 --short-history 0 \
        --compare-json /tmp/bench-1m.json                 # 10x: 10 million orders, once

Prints, per stage, wall time and peak memory (RSS of the stage's process tree) for a full run
on a fresh warehouse and for an incremental run that adds one new day to the loaded year;
the floor: DuckDB computing the window's gap and dedup figures straight from the raw files
(benchmarks/floor.sql), measured in the same run, and whether its figures equal the marts';
a `signal-audit run` with nothing new; then the same one-day run on a short history (30
days), so a stage whose cost grows with the history shows as the difference. Stages run as
`signal-audit` commands in their own processes, so each one's peak memory is its own; the
three inputs load in one process (`signal-audit load` with all three, as `run` does).
Figures are medians over --runs; memory is the largest over runs. With --compare-json (the
--json of a run at another scale), also how time grew against the growth in orders.

With --target postgres or spark the same stages run on that engine (`--target` on every
command; docs/engines.md): postgres needs dlt's DESTINATION__POSTGRES__CREDENTIALS__* settings
and the right to create databases (each run gets a new database, dropped after it); spark
needs the `spark` extra and Java 17 (each run gets its own spark dir; the build's memory
leaves out Spark's JVM, which dbt's process starts and does not wait for). The floor is
DuckDB's on every engine, and the audit's figures are read through the target's own connection.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLI = [PYTHON, "-m", "signal_audit.cli"]
TARGET: list[str] = []  # `--target <engine>` on every command, when not DuckDB


@dataclass(frozen=True)
class Measure:
    seconds: float
    peak_rss_mb: float


def measure(command: list[str], ok_codes: tuple[int, ...] = (0,)) -> Measure:
    """Run `command`; its wall time and the peak RSS of it and the children it waited for."""
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in ok_codes:
        sys.exit(f"benchmark stage failed ({code}): {' '.join(command)}\n{output.decode(errors='replace')[-3000:]}")
    return Measure(seconds, usage.ru_maxrss / 1024)


def inputs(shop: Path) -> dict[str, str]:
    return {
        "orders": str(shop / "orders" / "*" / "*.csv"),
        "delivery_log": str(shop / "delivery_log" / "*" / "*.json.gz"),
        "platform_reports": str(shop / "platform_reports" / "*" / "*.csv"),
    }


def generate(shop: Path, days: int, per_day: int, first_day: int = 0, n_days: int | None = None) -> Measure:
    command = [PYTHON, "-m", "signal_audit.demo.scale", "--out", str(shop), "--days", str(days),
               "--orders-per-day", str(per_day), "--first-day", str(first_day)]
    if n_days is not None:
        command += ["--n-days", str(n_days)]
    return measure(command)


def audit_stages(shop: Path, warehouse: Path, dbt_results: Path | None = None) -> dict[str, Measure]:
    """Time each stage; `dbt_results` keeps a copy of the build's run_results.json (per model)."""
    files = inputs(shop)
    wh = ["--warehouse", str(warehouse), *TARGET]
    stages = {
        "load, three inputs (dlt)": measure([*CLI, "load", *wh, *input_flags(files)]),
        "dbt build": measure([*CLI, "build", *wh]),
    }
    if dbt_results is not None:
        from signal_audit.transform import dbt_folder

        shutil.copy(dbt_folder("DBT_TARGET_PATH", "target") / "run_results.json", dbt_results)
    stages["checks (GX)"] = measure([*CLI, "check", *wh], ok_codes=(0, 1))  # 1: checks failed, as planted
    if has_report_command():
        stages["report"] = measure([*CLI, "report", *wh])
    return stages


def input_flags(files: dict[str, str]) -> list[str]:
    return ["--orders", files["orders"], "--delivery-log", files["delivery_log"],
            "--platform-reports", files["platform_reports"]]


def nothing_new(shop: Path, warehouse: Path) -> Measure:
    """`signal-audit run` when every input file is loaded already and nothing changed."""
    return measure([*CLI, "run", "--warehouse", str(warehouse), *TARGET, *input_flags(inputs(shop))])


def has_report_command() -> bool:
    probe = subprocess.run([*CLI, "report", "--help"], cwd=ROOT, capture_output=True, check=False)
    return probe.returncode == 0


def floor(shop: Path) -> tuple[Measure, list[tuple]]:
    files = inputs(shop)
    script = (
        "import duckdb, json, sys\n"
        "con = duckdb.connect()\n"
        "con.execute('set enable_progress_bar = false')\n"
        f"con.execute(\"set variable orders_glob = '{files['orders']}'\")\n"
        f"con.execute(\"set variable log_glob = '{files['delivery_log']}'\")\n"
        f"con.execute(\"set variable reports_glob = '{files['platform_reports']}'\")\n"
        f"rows = con.execute(open({str(ROOT / 'benchmarks' / 'floor.sql')!r}).read()).fetchall()\n"
        "print(json.dumps([list(map(str, r)) for r in rows]))\n"
    )
    started = time.monotonic()
    proc = subprocess.Popen([PYTHON, "-c", script], stdout=subprocess.PIPE)
    out = proc.stdout.read() if proc.stdout else b"[]"
    _, _, usage = os.wait4(proc.pid, 0)
    return Measure(time.monotonic() - started, usage.ru_maxrss / 1024), json.loads(out)


def audit_figures(target: Any) -> list[tuple]:
    """The floor's figures as the marts hold them, read through the target's connection."""
    import sqlalchemy

    with target.connect() as con:
        return [tuple(row) for row in con.execute(sqlalchemy.text(
            """
            select g.platform, sum(backend_purchases), sum(orders_sent_by_server), sum(orders_accepted),
                   sum(platform_reported_purchases), sum(d.orders_with_both), sum(d.matching_event_id_orders)
            from marts.fct_conversion_gap_daily as g
            inner join marts.fct_dedup_daily as d using (report_date, platform)
            where report_date between (select window_start from intermediate.int_audit_window)
                                  and (select window_end from intermediate.int_audit_window)
            group by g.platform order by g.platform
            """
        )).fetchall()]


@contextmanager
def fresh_target(engine: str, folder: Path) -> Iterator[Any]:
    """A new, empty place for one run on `engine`, as the target the CLI will find (the stages'
    processes inherit this process's environment)."""
    from signal_audit_core import targets

    folder.mkdir(parents=True, exist_ok=True)
    if engine == "duckdb":
        yield targets.DuckDBTarget(folder / "audit.duckdb")
    elif engine == "spark":
        os.environ[targets.SPARK_DIR_ENV] = str(folder / "spark")
        os.environ.pop(targets.RAW_LAKE_ENV, None)
        yield targets.spark_target(folder)
    else:
        import psycopg2

        given = targets.postgres_target(folder)
        name = f"{given.database}_bench_{os.getpid()}_{folder.name}"
        admin = psycopg2.connect(host=given.host, port=given.port, dbname=given.database, user=given.username,
                                 password=given.password)
        admin.autocommit = True
        variable = f"{targets.POSTGRES_ENV}__DATABASE"
        before = os.environ.get(variable)
        try:
            with admin.cursor() as cur:
                cur.execute(f'create database "{name}"')
            os.environ[variable] = name
            yield targets.postgres_target(folder)
        finally:
            if before is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = before
            with admin.cursor() as cur:
                cur.execute(f'drop database if exists "{name}" with (force)')
            admin.close()


def slowest_nodes(run_results: Path, top: int = 8) -> list[tuple[float, str]]:
    results = json.loads(run_results.read_text())["results"]
    timed = sorted(((r["execution_time"], r["unique_id"].split(".", 2)[-1]) for r in results), reverse=True)
    return timed[:top]


def median(measures: list[Measure]) -> Measure:
    return Measure(statistics.median(m.seconds for m in measures), max(m.peak_rss_mb for m in measures))


def keep_days(shop: Path, days: int) -> None:
    """Remove the day folders (`day=YYYY-MM-DD`, one per input) of `shop` after its first `days`."""
    for folder in ("orders", "delivery_log", "platform_reports"):
        for extra in sorted((shop / folder).glob("day=*"))[days:]:
            shutil.rmtree(extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--orders-per-day", type=int, default=2740)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/signal-audit-benchmark"))
    parser.add_argument("--short-history", type=int, default=30, metavar="DAYS",
                        help="also time one more day on a history this long, to compare with the full "
                             "history (0 to skip)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--compare-json", type=Path, metavar="FILE",
                        help="the --json of a run at another scale (e.g. 1M orders, to compare a 10M run with)")
    parser.add_argument("--shop", type=Path, metavar="DIR",
                        help="a shop scale.py already wrote with the same --days and --orders-per-day (a 10M-order "
                             "shop takes many minutes to write): used instead of generating one; days it holds "
                             "beyond --days are removed first")
    parser.add_argument("--target", choices=("duckdb", "postgres", "spark"), default="duckdb",
                        help="the engine the audit runs on (the floor is DuckDB's on every one)")
    args = parser.parse_args()
    if args.target != "duckdb":
        TARGET.extend(["--target", args.target])
    shutil.rmtree(args.work, ignore_errors=True)
    shop = args.shop or args.work / "shop"

    full: dict[str, list[Measure]] = {}
    incremental: dict[str, list[Measure]] = {}
    floors: list[Measure] = []
    agree: list[bool] = []
    idle: list[Measure] = []
    for run in range(args.runs):
        print(f"run {run + 1} of {args.runs}", flush=True)
        warehouse = args.work / f"run{run}" / "audit.duckdb"
        with fresh_target(args.target, warehouse.parent) as target:
            if args.shop:
                keep_days(shop, args.days)
            else:
                shutil.rmtree(shop, ignore_errors=True)
                full.setdefault("generate", []).append(generate(shop, args.days, args.orders_per_day))
            floor_measure, floor_rows = floor(shop)
            floors.append(floor_measure)
            for stage, m in audit_stages(shop, warehouse, args.work / f"dbt_full_run{run + 1}.json").items():
                full.setdefault(stage, []).append(m)
            audit = [[str(v) for v in row] for row in audit_figures(target)]
            agree.append(audit == [row[:5] + row[6:] for row in floor_rows])
            # one more day arrives
            incremental.setdefault("generate", []).append(
                generate(shop, args.days + 1, args.orders_per_day, first_day=args.days, n_days=1))
            for stage, m in audit_stages(shop, warehouse, args.work / f"dbt_one_day_run{run + 1}.json").items():
                incremental.setdefault(stage, []).append(m)
            idle.append(nothing_new(shop, warehouse))
        shutil.rmtree(warehouse.parent, ignore_errors=True)

    # the same one-day run on a short history: a stage whose cost grows with history shows here
    short: dict[str, Measure] = {}
    if args.short_history:
        print(f"one more day on {args.short_history} days of history", flush=True)
        short_shop, short_wh = args.work / "short" / "shop", args.work / "short" / "run" / "audit.duckdb"
        with fresh_target(args.target, short_wh.parent):
            generate(short_shop, args.short_history, args.orders_per_day)
            audit_stages(short_shop, short_wh)
            generate(short_shop, args.short_history + 1, args.orders_per_day, first_day=args.short_history,
                     n_days=1)
            short = audit_stages(short_shop, short_wh)
        shutil.rmtree(short_wh.parent, ignore_errors=True)

    full_med = {k: median(v) for k, v in full.items()}
    inc_med = {k: median(v) for k, v in incremental.items()}
    floor_med = median(floors)
    full_total = sum(m.seconds for k, m in full_med.items() if k != "generate")
    inc_total = sum(m.seconds for k, m in inc_med.items() if k != "generate")

    print(f"\nsignal-audit benchmark on {args.target}: {args.days} days x {args.orders_per_day:,} orders/day, "
          f"median of {args.runs} run(s), {os.cpu_count()} cores")
    print(f"\n{'stage':32} {'full s':>9} {'full MB':>9} {'incr s':>9} {'incr MB':>9}")
    for stage in full_med:
        f, i = full_med[stage], inc_med.get(stage)
        inc_s, inc_mb = (i.seconds, i.peak_rss_mb) if i else (0.0, 0.0)
        print(f"{stage:32} {f.seconds:9.1f} {f.peak_rss_mb:9.0f} {inc_s:9.1f} {inc_mb:9.0f}")
    print(f"{'audit total (without generate)':32} {full_total:9.1f} {'':9} {inc_total:9.1f}")
    for kind in ("full", "one_day"):
        print(f"\ndbt, slowest nodes of the {kind.replace('_', ' ')} build (run 1, s):")
        for seconds, node in slowest_nodes(args.work / f"dbt_{kind}_run1.json"):
            print(f"  {node:60} {seconds:7.1f}")
    if short:
        print(f"\none more day, by length of history (s): {args.short_history} days vs {args.days} days")
        for stage, m in short.items():
            print(f"  {stage:30} {m.seconds:9.1f} {inc_med[stage].seconds:9.1f}")
        print(f"  {'total':30} {sum(m.seconds for m in short.values()):9.1f} "
              f"{sum(m.seconds for k, m in inc_med.items() if k != 'generate'):9.1f}")
    idle_med = median(idle)
    print(f"\na run with nothing new (signal-audit run: load, build skipped, checks, report): "
          f"{idle_med.seconds:.1f} s, {idle_med.peak_rss_mb:.0f} MB")
    print(f"\nfloor (DuckDB alone, benchmarks/floor.sql): {floor_med.seconds:.1f} s, {floor_med.peak_rss_mb:.0f} MB")
    print(f"floor figures (gap, dedup per platform) equal the audit's marts: {'yes' if all(agree) else 'NO'}")
    orders = args.days * args.orders_per_day
    peak = max(m.peak_rss_mb for k, m in [*full_med.items(), *inc_med.items()] if k != "generate")
    generator_peak = max(m.peak_rss_mb for k, m in [*full_med.items(), *inc_med.items()] if k == "generate")
    rss_limit = 4096 if orders > 2_000_000 else 2048  # the issue: 2 GB at 1M orders, 4 GB at 10M
    print("\ntargets:")
    print(f"  full run <= 3x floor:           {full_total:.1f} s vs {3 * floor_med.seconds:.1f} s "
          f"({full_total / floor_med.seconds:.1f}x) {'met' if full_total <= 3 * floor_med.seconds else 'MISSED'}")
    print(f"  one more day <= 10% of full:    {inc_total:.1f} s vs {0.1 * full_total:.1f} s "
          f"({100 * inc_total / full_total:.0f}%) {'met' if inc_total <= 0.1 * full_total else 'MISSED'}")
    print(f"  peak RSS of any audit stage <= {rss_limit // 1024} GB: {peak:.0f} MB "
          f"{'met' if peak <= rss_limit else 'MISSED'} (generator: {generator_peak:.0f} MB)")
    if args.compare_json:
        other = json.loads(args.compare_json.read_text())
        other_orders = other["days"] * other["orders_per_day"]
        other_total = other.get("full_total") or sum(
            m["seconds"] for k, m in other["full"].items() if k != "generate")
        growth, limit = orders / other_orders, 1.1 * orders / other_orders  # 10x orders: <= 11x time
        print(f"  time <= {limit:.1f}x the {other_orders:,}-order run ({growth:.0f}x the orders): "
              f"{full_total:.1f} s vs {other_total:.1f} s ({full_total / other_total:.1f}x) "
              f"{'met' if full_total <= limit * other_total else 'MISSED'}")
        print("  per stage (s, this run vs the other):")
        for stage, m in full_med.items():
            if stage in other["full"]:
                before = other["full"][stage]["seconds"]
                print(f"    {stage:30} {m.seconds:9.1f} {before:9.1f} ({m.seconds / max(before, 1e-9):.1f}x)")
    if args.json:
        args.json.write_text(json.dumps({
            "target": args.target, "days": args.days, "orders_per_day": args.orders_per_day, "orders": orders,
            "runs": args.runs,
            "full": {k: vars(m) for k, m in full_med.items()},
            "incremental": {k: vars(m) for k, m in inc_med.items()},
            "full_total": full_total, "incremental_total": inc_total,
            "nothing_new": vars(idle_med),
            "floor": vars(floor_med),
            "floor_equals_marts": all(agree),
            "one_more_day_on_short_history": {k: vars(m) for k, m in short.items()},
        }, indent=2))


if __name__ == "__main__":
    main()
