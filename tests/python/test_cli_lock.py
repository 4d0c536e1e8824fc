"""One audit at a time: a run holds its warehouse from its first step to its last.

A second command started at any point of a run (while dlt loads, while dbt or GX run in their
own processes, while the report is written) is told the warehouse is busy, with exit 2 and no
traceback, and the first run still succeeds. The lock is the operating system's (flock): a
killed run leaves none behind, and nothing it had copied into dlt's working folders survives
the next run.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from pipelines.load import state_dir
from pipelines.working_files import TEMPORARY
from signal_audit.demo import generate_shop, preset
from signal_audit_core.warehouse import WarehouseBusy, hold, lock_path

BUSY = "is in use by another process (a notebook, BI tool or another audit run); close it and run again"
BEING_WRITTEN = "is being written by another process; try again when it ends"
# dlt's copies of landed rows (job files); its state and schemas are JSON
DATA_SUFFIXES = (".parquet", ".jsonl", ".typed-jsonl", ".insert_values", ".csv", ".gz", ".arrow", ".exception")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "signal_audit.cli", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)


class Running:
    """`signal-audit` in the background, its output lines read as they come."""

    def __init__(self, *args: str, cwd: Path) -> None:
        # its own session, so the test can kill the run with its dbt process, as a machine would
        self.proc = subprocess.Popen([sys.executable, "-m", "signal_audit.cli", *args], cwd=cwd,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, marker: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                assert self.proc.poll() is None or not self.lines.empty(), "".join(self.seen)
                continue
            self.seen.append(line)
            if marker in line:
                return
        raise AssertionError(f"never saw {marker!r}:\n{''.join(self.seen)}")

    def finish(self, timeout: float = 300) -> tuple[int, str]:
        code = self.proc.wait(timeout=timeout)
        time.sleep(0.2)  # let the reader drain the pipe
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code, "".join(self.seen)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


# `signal-audit` imported and parsed up to the moment a line arrives on stdin: started at a
# precise point of another run, not a second or two of imports later
PRIMED = textwrap.dedent("""
    import sys
    import pipelines.files, pipelines.sources.http, signal_audit.reporting.data  # what an error's sentence needs
    from signal_audit.cli import main
    print("ready", flush=True)
    sys.stdin.readline()
    sys.exit(main(sys.argv[1:]))
""")


class Primed:
    def __init__(self, *args: str, cwd: Path) -> None:
        self.args = args
        self.proc = subprocess.Popen([sys.executable, "-c", PRIMED, *args], cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def ready(self) -> None:
        assert self.proc.stdout is not None and self.proc.stdout.readline() == "ready\n"

    def start(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def go(self) -> subprocess.CompletedProcess[str]:
        out, err = self.proc.communicate(timeout=300)
        return subprocess.CompletedProcess(self.args, self.proc.returncode, out, err)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("shop")
    generate_shop(preset("broken", days=5), out)
    return out


def inputs(shop: Path) -> list[str]:
    return ["--orders", str(shop / "orders.csv"), "--delivery-log", str(shop / "delivery_log.jsonl.gz"),
            "--platform-reports", str(shop / "platform_reports.csv")]


def refused(result: subprocess.CompletedProcess[str], sentence: str) -> None:
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert sentence in result.stderr
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def data_files(warehouse: Path) -> list[Path]:
    """dlt's job files, and the parsed inputs spilled before dlt reads them (pipelines/spill.py)."""
    root = state_dir(warehouse)
    return [p for p in root.rglob("*") if p.is_file() and (p.name.endswith(DATA_SUFFIXES) or TEMPORARY in p.parts)]


# ---------------------------------------------------------------- the lock itself


HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from signal_audit_core.warehouse import hold
    with hold(Path(sys.argv[1]), write=sys.argv[2] == "write"):
        print("held", flush=True)
        time.sleep(120)
""")


def holder(warehouse: Path, mode: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(warehouse), mode], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_writer_excludes_everyone_readers_share_and_a_killed_holder_leaves_no_lock(tmp_path: Path):
    warehouse = tmp_path / "wh" / "audit.duckdb"
    writer = holder(warehouse, "write")
    try:
        with pytest.raises(WarehouseBusy, match=re.escape(BUSY)), hold(warehouse):
            pass
        warehouse.touch()  # readers need a warehouse to read
        with pytest.raises(WarehouseBusy, match=re.escape(BEING_WRITTEN)), hold(warehouse, write=False):
            pass
    finally:
        writer.send_signal(signal.SIGKILL)  # no clean-up code runs: the OS drops the flock
        writer.wait()
    assert lock_path(warehouse).exists()  # the file stays, and means nothing by itself
    with hold(warehouse):
        pass

    reader = holder(warehouse, "read")
    try:
        with hold(warehouse, write=False):  # report, export and scorecard side by side
            pass
        with pytest.raises(WarehouseBusy, match=re.escape(BUSY)), hold(warehouse):
            pass
    finally:
        reader.kill()
        reader.wait()


def test_a_reader_of_a_missing_warehouse_leaves_nothing_behind(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="no warehouse at"), hold(tmp_path / "none.duckdb", write=False):
        pass
    assert list(tmp_path.iterdir()) == []


def test_a_reader_in_a_folder_it_may_not_write_still_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An analyst's `report` on a warehouse in a read-only folder: no lock file can be made, and
    DuckDB's own lock still guards the file. A writer there is told it may not write."""
    warehouse = tmp_path / "audit.duckdb"
    warehouse.touch()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(lock_path(warehouse)))

    monkeypatch.setattr("signal_audit_core.warehouse.os.open", refuse)  # as running as root, every open would pass
    with hold(warehouse, write=False):
        pass
    with pytest.raises(PermissionError), hold(warehouse):
        pass


# ---------------------------------------------------------------- a second run at every point of a first


# points of a run, as its output shows them: a stage's first line, then a line inside it
POINTS = {
    "while-loading": ("==> load inputs (dlt)", None),  # dlt is landing the inputs
    "between-load-and-dbt": (None, "    done in "),  # between two stages, where no connection is open
    "inside-dbt": ("==> build models and tests (dbt build)", " done ("),  # dbt's own process is building
    "inside-gx": ("==> judge thresholds (Great Expectations)", None),
}


def test_a_second_run_at_any_point_of_a_first_is_told_the_warehouse_is_busy(tmp_path: Path, shop: Path):
    warehouse = tmp_path / "wh" / "audit.duckdb"
    # for each point a second run and a report, started and waiting before the first run begins
    others = {name: (Primed("run", *inputs(shop), "--warehouse", str(warehouse), cwd=tmp_path),
                     Primed("report", "--warehouse", str(warehouse), cwd=tmp_path)) for name in POINTS}
    results: dict[str, tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]] = {}
    for second, reader in others.values():
        second.ready(), reader.ready()
    first = Running("run", *inputs(shop), "--warehouse", str(warehouse), cwd=tmp_path)
    try:
        for name, (stage, inside) in POINTS.items():
            for marker in (stage, inside):
                if marker:
                    first.wait_for(marker)
            second, reader = others[name]
            second.start(), reader.start()  # both at once, the moment the first run got there
            results[name] = second.go(), reader.go()
            assert first.proc.poll() is None, f"{name}: the first run ended before the others tried"
        code, out = first.finish()
    finally:
        if first.proc.poll() is None:
            first.kill()
        for pair in others.values():
            for primed in pair:
                if primed.proc.poll() is None:
                    primed.proc.kill()
                    primed.proc.wait()
    for second_result, reader_result in results.values():
        refused(second_result, f"the warehouse {warehouse} {BUSY}")
        refused(reader_result, f"the warehouse {warehouse} {BEING_WRITTEN}")
    assert code == 0, out  # the first run never noticed
    assert "3 failing check(s) of 21." in out and "Report: " in out


def test_a_killed_run_leaves_no_lock_and_no_copies_of_its_data(tmp_path: Path, shop: Path):
    warehouse = tmp_path / "wh" / "audit.duckdb"
    first = Running("run", *inputs(shop), "--warehouse", str(warehouse), cwd=tmp_path)
    try:
        first.wait_for("==> load inputs (dlt)")
        deadline = time.monotonic() + 120
        while not data_files(warehouse) and time.monotonic() < deadline and first.proc.poll() is None:
            time.sleep(0.01)
        assert data_files(warehouse), "dlt wrote no job file before the load ended: nothing to kill mid-load"
    finally:
        first.kill()  # SIGKILL, mid-load: no clean-up code of ours or dlt's runs
    assert data_files(warehouse)  # what the killed run copied is still there...

    again = cli("run", *inputs(shop), "--warehouse", str(warehouse), cwd=tmp_path)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]  # ...no stale lock...
    assert "orders: 292 rows read, 292 loaded" in again.stdout
    assert data_files(warehouse) == []  # ...and the next run removed it with its own copies
