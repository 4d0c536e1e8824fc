"""Every mistake a user can make gets one sentence and an exit code, never a traceback.

Exit codes: 0 done, 1 a check failed (or --gate met a platform without data), 2 a mistake in
the command, inputs or settings, 3 a stage failed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml

from signal_audit.checks.catalog import read_checks
from signal_audit.demo import generate_shop, preset
from signal_audit_core.config import PROJECT_DIR, default_audit_settings, load_config


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "signal_audit.cli", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)


def one_sentence(result: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    """The user's mistake: the exit code, the message, on one line of stderr, nothing else."""
    assert result.returncode == code, result.stdout[-2000:] + result.stderr[-2000:]
    assert message in result.stderr
    assert "Traceback" not in result.stderr and "usage:" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("signal-audit: ")
              and "warning" not in line]
    assert len(errors) == 1, result.stderr


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("shop")
    generate_shop(preset("broken", days=5), out)
    return out


def inputs(shop: Path) -> list[str]:
    return ["--orders", str(shop / "orders.csv"), "--delivery-log", str(shop / "delivery_log.jsonl.gz"),
            "--platform-reports", str(shop / "platform_reports.csv")]


# ---------------------------------------------------------------- the command line itself


def test_unknown_command_suggests_the_nearest(tmp_path: Path):
    one_sentence(cli("rnu", cwd=tmp_path), 2, "unknown command 'rnu' (did you mean 'run'?); choose from run, init")


def test_demo_profile_typo_names_the_profiles(tmp_path: Path):
    one_sentence(cli("run", "--demo-profile", "brokn", cwd=tmp_path), 2,
                 "unknown value for --demo-profile 'brokn' (did you mean 'broken'?); choose from healthy, broken, "
                 "over_reporting, messy_payloads")


def test_unknown_option_is_one_sentence(tmp_path: Path):
    one_sentence(cli("run", "--gates", cwd=tmp_path), 2,
                 "unrecognized arguments: --gates (did you mean --gate?) (see `signal-audit run --help`)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--gat"], "unrecognized arguments: --gat (did you mean --gate?) (see `signal-audit run --help`)"),
        (["run", "--full"], "unrecognized arguments: --full (did you mean --full-refresh?)"),
        (["export", "--form", "csv", "--out", "bi"], "unrecognized arguments: --form csv (did you mean --format?)"),
        (["demo", "--prof", "healthy"], "unrecognized arguments: --prof healthy (did you mean --profile?)"),
        (["--vers"], "unrecognized arguments: --vers (did you mean --version?) (see `signal-audit --help`)"),
    ],
)
def test_options_are_never_abbreviated(tmp_path: Path, args, message):
    """`--gat` is a typo to point out, not `--gate`: a prefix would change meaning silently when an
    option sharing it is added."""
    one_sentence(cli(*args, cwd=tmp_path), 2, message)
    assert not (tmp_path / "warehouse").exists() and not (tmp_path / "bi").exists()


def test_version_prints_the_package_version(tmp_path: Path):
    import tomllib

    from signal_audit import __version__
    from signal_audit import cli as cli_module

    pyproject = tomllib.loads((cli_module.PROJECT_DIR / "pyproject.toml").read_text())
    result = cli("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == f"signal-audit {__version__}\n"
    assert __version__ == pyproject["project"]["version"]


def test_build_before_anything_was_loaded_says_what_to_load(tmp_path: Path):
    one_sentence(cli("build", "--warehouse", "w.duckdb", cwd=tmp_path), 2,
                 f"the warehouse {tmp_path / 'w.duckdb'} holds no loaded data yet: run `signal-audit load` with your "
                 "inputs (or `signal-audit run`) first")


def test_help_lists_every_command_and_the_exit_codes(tmp_path: Path):
    result = cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "init", "demo", "load", "build", "check", "scorecard", "report", "export"):
        assert re.search(rf"^    {command} +\S", result.stdout, re.M), command
    assert "exit codes:" in result.stdout and "2  a mistake in the command" in result.stdout
    for command in ("run", "init", "report", "export"):
        assert cli(command, "--help", cwd=tmp_path).returncode == 0
    bare = cli(cwd=tmp_path)
    assert bare.returncode == 2 and "commands:" in bare.stdout


# ---------------------------------------------------------------- inputs


def test_missing_input_file(tmp_path: Path, shop: Path):
    args = inputs(shop)
    args[1] = "exports/orders.csv"
    one_sentence(cli("run", *args, "--warehouse", "w.duckdb", cwd=tmp_path), 2,
                 "orders: file 'exports/orders.csv' does not exist")


def test_wrong_column_mapping_names_the_file_the_column_and_what_it_has(tmp_path: Path, shop: Path):
    (tmp_path / "signal_audit.yml").write_text("orders:\n  columns:\n    order_id: Order Number\n")
    result = cli("load", *inputs(shop), "--warehouse", "w.duckdb", cwd=tmp_path)
    one_sentence(result, 2, f"orders file {shop / 'orders.csv'} has no column 'Order Number' (for order_id); "
                            "its columns are: order_id, created_at, status")
    assert "Map your column names to the contract's in orders.columns of signal_audit.yml" in result.stderr


def test_busy_warehouse_is_named_on_run_and_on_report(tmp_path: Path, shop: Path):
    warehouse = tmp_path / "busy.duckdb"
    hold = f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); print('held', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        one_sentence(cli("run", *inputs(shop), "--warehouse", str(warehouse), cwd=tmp_path), 2,
                     f"the warehouse {warehouse} is in use by another process (a notebook, BI tool or another "
                     "audit run); close it and run again")
        one_sentence(cli("report", "--warehouse", str(warehouse), cwd=tmp_path), 2,
                     f"the warehouse {warehouse} is being written by another process; try again when it ends")
    finally:
        holder.kill()
        holder.wait()


def test_no_warehouse_and_a_warehouse_without_marts(tmp_path: Path):
    one_sentence(cli("report", "--warehouse", "nowhere.duckdb", cwd=tmp_path), 2, "no warehouse at")
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    one_sentence(cli("report", "--warehouse", "empty.duckdb", cwd=tmp_path), 2,
                 "has no audit tables yet: run `signal-audit run` (or `build`) first")
    one_sentence(cli("export", "--warehouse", "empty.duckdb", "--out", "bi", cwd=tmp_path), 2,
                 "has no marts tables yet")


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("audit", "message"),
    [
        ({"gap_threshold": 1.5}, "audit setting 'gap_threshold' must be a fraction between 0 and 1, got 1.5"),
        ({"gap_threshold": "10%"}, "audit setting 'gap_threshold' must be a fraction between 0 and 1, got '10%'"),
        ({"match_quality_pass": 70}, "audit setting 'match_quality_pass' must be a score between 0 and 10"),
        ({"dedup_rate_floor": 0.95}, "audit setting 'dedup_rate_floor' (0.95) must not exceed 'dedup_rate_pass'"),
        ({"gap_treshold": 0.2}, "unknown audit setting 'gap_treshold'"),
        # settings dbt or DuckDB would only fail on later (exit 3)
        ({"platforms": ["meta", "pinterest"]}, "audit setting 'platforms' names unknown platform(s) 'pinterest'; "
                                               "known: meta, tiktok, snap (seeds/platforms.csv)"),
        ({"audit_end_date": "20261001"}, "audit setting 'audit_end_date' must be a date written YYYY-MM-DD, such as "
                                         "2026-10-31, got '20261001'"),
        ({"audit_window_days": 10**9}, "audit setting 'audit_window_days' must be a whole number from 1 to 3660"),
    ],
)
def test_bad_threshold_value_stops_before_anything_runs(tmp_path: Path, audit, message):
    (tmp_path / "signal_audit.yml").write_text(yaml.safe_dump({"audit": audit}))
    one_sentence(cli("run", cwd=tmp_path), 2, message)
    assert not (tmp_path / "warehouse").exists()  # refused before the demo shop or a warehouse was made


def test_config_that_is_not_yaml(tmp_path: Path):
    (tmp_path / "signal_audit.yml").write_text("audit: [gap_threshold: 0.1\n")
    one_sentence(cli("build", cwd=tmp_path), 2, "config file signal_audit.yml is not valid YAML")


# ---------------------------------------------------------------- no platform data


@pytest.fixture(scope="module")
def shop_without_snap(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, subprocess.CompletedProcess[str]]]:
    """A healthy shop that never sent anything to Snap, audited with the default platforms."""
    root = tmp_path_factory.mktemp("nosnap")
    healthy = preset("healthy")
    generate_shop(preset("healthy", platforms={p: d for p, d in healthy.platforms.items() if p != "snap"}),
                  root / "shop")
    warehouse = root / "wh" / "audit.duckdb"
    yield warehouse, cli("run", "--gate", *inputs(root / "shop"), "--warehouse", str(warehouse), cwd=root)


def test_no_platform_data_is_a_warning_and_no_data_rows_not_a_crash(shop_without_snap):
    warehouse, run = shop_without_snap
    message = ("signal-audit: warning: no Snap data in the window 2026-10-02 to 2026-10-31: no server events "
               "and no report rows, so every Snap check says no_data (remove snap from audit.platforms if you "
               "don't use Snap)")
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert "[NO DATA] conversion_gap: " in run.stdout
    statuses = duckdb.connect(str(warehouse), read_only=True).execute(
        "select distinct status from marts.rpt_signal_scorecard where platform = 'snap'").fetchall()
    assert statuses == [("no_data",)]
    assert run.stdout.rstrip().splitlines()[-1] == f"Report: {warehouse.parent / 'report' / 'signal_audit_report.html'}"


def test_gate_cannot_pass_a_platform_without_data(shop_without_snap):
    _, run = shop_without_snap
    assert "0 failing check(s) of 21." in run.stdout  # nothing failed...
    assert run.returncode == 1  # ...but the gate did not see Snap
    assert "signal-audit: --gate fails: a platform without data cannot pass" in run.stderr


def test_without_gate_no_data_exits_0_with_the_warning(shop_without_snap, tmp_path: Path):
    warehouse, _ = shop_without_snap
    card = cli("scorecard", "--warehouse", str(warehouse), cwd=tmp_path)
    assert card.returncode == 0
    assert "warning: no Snap data in the window" in card.stderr


# ---------------------------------------------------------------- init


def test_init_writes_a_commented_config_with_the_dbt_defaults(tmp_path: Path):
    result = cli("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = tmp_path / "signal_audit.yml"
    assert f"wrote {written}" in result.stdout and "next: review the file, then run `signal-audit run`" in result.stdout
    text = written.read_text()
    config = load_config(written)
    defaults = default_audit_settings()
    assert {**defaults, **config.audit} == defaults  # the file changes nothing until edited
    # every setting is in the file, the thresholds as comments holding the default values
    commented = dict(re.findall(r"^  # (\w+): (.+?)\s+# ", text, re.M))
    for name, value in defaults.items():
        shown = config.audit[name] if name in config.audit else yaml.safe_load(commented[name])
        assert shown == value, name
    assert text.count("#") > 40  # it explains itself
    for check in read_checks(PROJECT_DIR):  # the checks, from the seed, with the settings bounding them
        assert f"#   {check.title} ({check.check_name}): {check.pass_setting}" in text


def test_init_maps_the_columns_of_a_shopify_style_export(tmp_path: Path):
    export = tmp_path / "exports" / "orders_export_1.csv"
    export.parent.mkdir()
    export.write_text("Name,Created at,Financial Status,Total,Currency,Email,Phone,Accepts Marketing,Billing City\n"
                      "#1001,2026-05-01 10:00:00 +0200,paid,10.00,EUR,a@example.com,,yes,Berlin\n")
    (tmp_path / "conf").mkdir()
    result = cli("init", "--out", "conf/shop.yml", "--orders", "exports/*.csv", "--timezone", "Europe/Berlin",
                 "--platforms", "meta,tiktok", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "order_id <- 'Name'" in result.stdout and "next: review the file, then run `signal-audit run --config " \
        "conf/shop.yml`" in result.stdout
    config = load_config(tmp_path / "conf" / "shop.yml")
    assert config.orders.columns == {
        "order_id": "Name", "created_at": "Created at", "status": "Financial Status", "total_value": "Total",
        "currency": "Currency", "email": "Email", "phone": "Phone", "marketing_consent": "Accepts Marketing",
        "city": "Billing City",
    }
    assert config.inputs.orders == (str(tmp_path / "conf" / ".." / "exports" / "*.csv"),)
    assert config.audit["platforms"] == ["meta", "tiktok"]
    assert config.audit["reporting_timezone"] == "Europe/Berlin" and config.orders.naive_timezone == "Europe/Berlin"


def test_init_config_for_the_demo_shop_loads_it(tmp_path: Path, shop: Path):
    assert cli("init", *inputs(shop), cwd=tmp_path).returncode == 0
    load = cli("load", "--warehouse", "w.duckdb", cwd=tmp_path)  # reads ./signal_audit.yml
    assert load.returncode == 0, load.stderr
    assert "orders: 292 rows read, 292 loaded" in load.stdout


def test_init_refuses_to_overwrite_without_force(tmp_path: Path):
    (tmp_path / "signal_audit.yml").write_text("# mine\n")
    one_sentence(cli("init", cwd=tmp_path), 2, "signal_audit.yml already exists; pass --force to overwrite it")
    assert (tmp_path / "signal_audit.yml").read_text() == "# mine\n"
    assert cli("init", "--force", cwd=tmp_path).returncode == 0
    assert "written by `signal-audit init`" in (tmp_path / "signal_audit.yml").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timezone", "Berlin"], "--timezone 'Berlin' is not an IANA time zone name"),
        (["--platforms", "meta,pinterest"], "unknown platform(s) pinterest; supported: meta, tiktok, snap"),
        (["--orders", "exports/*.csv"], "orders: no file matches 'exports/*.csv'"),
    ],
)
def test_init_mistakes(tmp_path: Path, args, message):
    one_sentence(cli("init", *args, cwd=tmp_path), 2, message)
    assert not (tmp_path / "signal_audit.yml").exists()
