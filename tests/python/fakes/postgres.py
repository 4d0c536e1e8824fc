"""A real PostgreSQL server for the tests: initdb into a temporary folder, listening on
127.0.0.1 only, on a free port; stopped and deleted afterwards.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user
(Debian's package creates it). Missing binaries skip the tests that need the server, unless
SIGNAL_AUDIT_REQUIRE_SERVICES=1 (CI), which makes them fail instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

USER = "shop"


def _bin_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for candidate in reversed(candidates):
        if os.access(os.path.join(candidate, "pg_ctl"), os.X_OK):
            return Path(candidate)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def unavailable(reason: str) -> None:
    if os.environ.get("SIGNAL_AUDIT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"PostgreSQL is required (SIGNAL_AUDIT_REQUIRE_SERVICES=1) but {reason}")
    pytest.skip(f"no PostgreSQL server for this test: {reason} (install Debian's postgresql package)")


class PostgresServer:
    def __init__(self, bin_dir: Path, root: Path, port: int, password: str, run_as: list[str]) -> None:
        self.bin_dir, self.root, self.port, self.password, self._run_as = bin_dir, root, port, password, run_as

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres", with_password: bool = True) -> str:
        secret = f":{self.password}" if with_password else ""
        return f"postgresql://{USER}{secret}@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [*self._run_as, str(self.bin_dir / args[0]), *args[1:]]
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)

    def create_database(self, name: str) -> str:
        import psycopg2

        con = psycopg2.connect(self.url())
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f'drop database if exists "{name}"')
            cur.execute(f'create database "{name}"')
        con.close()
        return name


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        unavailable("pg_ctl and initdb were not found (/usr/lib/postgresql/*/bin or PATH)")
    run_as: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            unavailable("the tests run as root and there is no `postgres` user to run the server as")
        runuser = shutil.which("runuser")
        if runuser is None:
            unavailable("the tests run as root and `runuser` is missing")
        run_as = [runuser, "-u", "postgres", "--"]

    root = Path(tempfile.mkdtemp(prefix="signal-audit-pg-"))
    password = secrets.token_urlsafe(16)
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = PostgresServer(bin_dir, root, port, password, run_as)
    try:
        server.run("initdb", "-D", str(server.data), "-U", USER, "--pwfile", str(pwfile),
                   "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        server.run("pg_ctl", "-D", str(server.data), "-l", str(root / "server.log"), "-o", options,
                   "-w", "-t", "60", "start")
    except subprocess.CalledProcessError as exc:
        log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{log}") from exc
    try:
        yield server
    finally:
        subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(server.data), "-m", "immediate", "stop"],
                       capture_output=True, check=False, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
