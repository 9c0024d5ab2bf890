"""Where the store lives and how to talk to it safely from many processes at once.

SQLite: WAL journal (readers never block the one writer), a 30 s busy timeout, every write in
``BEGIN IMMEDIATE`` (takes the write lock up front, so two writers never deadlock upgrading a read
lock) and a retry loop on top for the ``database is locked`` cases the busy handler cannot wait
out. PostgreSQL needs none of this; a bare ``postgresql://`` URL is pointed at psycopg 3, the
driver moebench installs (SQLAlchemy would otherwise look for psycopg2).
"""

from __future__ import annotations

import platformdirs
import os
import random
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from harness.errors import HarnessError

ENV_VAR = "MOEBENCH_STORE"
BUSY_TIMEOUT_S = 30
_RETRIES = 8


def default_url() -> str:
    """SQLite file in the user data directory (``~/.local/share/moebench/results.sqlite``)."""
    return f"sqlite:///{platformdirs.user_data_path('moebench') / 'results.sqlite'}"


def resolve_url(url: str | None = None) -> str:
    """``url``, else ``$MOEBENCH_STORE``, else the default; a bare path means a SQLite file."""
    url = url or os.environ.get(ENV_VAR) or default_url()
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def display_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def _sqlite_on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001 (DB-API objects)
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_on_begin)
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    write = conn.get_execution_options().get("moebench_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _parse(url: str) -> sa.URL:
    try:
        return sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise HarnessError(f"not a store URL: {url!r}; use a path, sqlite:///FILE or "
                           "postgresql://user@host/db") from exc


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite store URL; None for an in-memory or a server database."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


CONNECT_TIMEOUT_S = 10


def create_engine(url: str, *, create: bool = True) -> sa.Engine:
    """An engine for ``url`` with the SQLite concurrency settings above applied; ``create``
    makes the folder of a SQLite file (the file itself appears on first connect)."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite":
        return _server_engine(url)
    memory = parsed.database in (None, "", ":memory:")
    if not memory and create:
        folder = Path(parsed.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HarnessError(f"cannot create the store folder {folder}: "
                               f"{exc.strerror or exc}") from exc
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S},
                              poolclass=StaticPool if memory else None)
    sa.event.listen(engine, "connect", _sqlite_on_connect)
    sa.event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _server_engine(url: str) -> sa.Engine:
    try:
        # an unreachable or black-holed server fails in seconds, not at the TCP timeout
        args = {"connect_timeout": CONNECT_TIMEOUT_S} if url.startswith("postgresql") else {}
        return sa.create_engine(url, pool_pre_ping=True, connect_args=args)
    except (sa.exc.NoSuchModuleError, ImportError) as exc:
        raise HarnessError(f"no database driver for {display_url(url)} ({exc}); moebench "
                           "supports sqlite:/// and postgresql:// stores") from exc


def _is_busy(exc: sa.exc.OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text


@contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A write transaction (one attempt); use ``retry_busy`` around the whole unit of work."""
    with engine.connect() as conn:
        conn = conn.execution_options(moebench_write=True)
        with conn.begin():
            yield conn


def retry_busy(work, *args, **kwargs):  # noqa: ANN001, ANN201 (generic pass-through)
    """Call ``work`` again, with jittered back-off, while SQLite reports the database busy."""
    for attempt in range(_RETRIES):
        try:
            return work(*args, **kwargs)
        except sa.exc.OperationalError as exc:
            if not _is_busy(exc) or attempt == _RETRIES - 1:
                raise
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")
