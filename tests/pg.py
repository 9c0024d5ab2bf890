"""A throwaway PostgreSQL server for the store tests, started by the tests themselves.

``pg_server`` (session) runs Debian's ``initdb``/``pg_ctl`` (``apt-get install postgresql``) in a
temporary directory, listening only on a unix socket there, as the ``postgres`` OS user when the
tests run as root (PostgreSQL refuses to run as root; CI runs as root). ``pg_url`` (per test)
creates a fresh database on it and drops it afterwards. ``MOEBENCH_TEST_PG_URL`` points the
tests at an existing server instead. Without binaries or URL the PostgreSQL tests are skipped
with the reason.

Use: ``from pg import pg_server, pg_url  # noqa: F401`` in a test module (tests/ is on sys.path).
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

ENV_URL = "MOEBENCH_TEST_PG_URL"
_PORT = 5432  # socket-only server: the port just names the socket file inside our own dir


def find_bin_dir() -> Path | None:
    """Newest ``/usr/lib/postgresql/<major>/bin`` holding initdb and pg_ctl."""
    dirs = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    dirs = [d for d in dirs if (d / "pg_ctl").exists()]
    return max(dirs, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0,
               default=None)


def _server_user() -> str | None:
    """``postgres`` when we are root (the server refuses root), else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no 'postgres' OS user to run PostgreSQL as")
    return "postgres"


def _run(args: list[str], user: str | None) -> None:
    extra = {"user": user, "group": user} if user else {}
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60, **extra)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")


def _start(bin_dir: Path, root: Path, user: str | None) -> str:
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if user:
        for p in (root, sock):
            shutil.chown(p, user, user)
    _run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
          "--locale=C", "--no-sync"], user)
    options = (f"-k {sock} -p {_PORT} -c listen_addresses='' -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off")
    _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w",
          "-t", "30", "-o", options, "start"], user)
    return f"postgresql+psycopg://postgres@/postgres?host={sock}&port={_PORT}"


_started: dict[str, str] = {}  # one server per test process, however many modules import us


def _stop(bin_dir: Path, root: Path, user: str | None) -> None:
    if (root / "data" / "postmaster.pid").exists():
        _run([str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop"], user)
    shutil.rmtree(root, ignore_errors=True)


def _server_url() -> str:
    if "url" not in _started:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            pytest.skip("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb); "
                        f"apt-get install postgresql, or set {ENV_URL}")
        user = _server_user()
        root = Path(tempfile.mkdtemp(prefix="moebench-pg-"))
        atexit.register(_stop, bin_dir, root, user)
        _started["url"] = _start(bin_dir, root, user)
    return _started["url"]


@pytest.fixture(scope="session")
def pg_server() -> str:
    """Admin URL of a PostgreSQL server for this test run (skips when none can be had)."""
    return os.environ.get(ENV_URL) or _server_url()


def _admin(url: str, statement: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.fixture()
def pg_url(pg_server: str) -> Iterator[str]:
    """URL of a fresh, empty database on ``pg_server``, dropped after the test."""
    name = f"moebench_test_{uuid.uuid4().hex[:12]}"
    _admin(pg_server, f'CREATE DATABASE "{name}"')
    url = sa.make_url(pg_server).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        _admin(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
