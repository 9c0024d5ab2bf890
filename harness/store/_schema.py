"""Store tables (SQLAlchemy Core) and the numbered migrations that build them.

A store records its version in ``schema_version``; ``migrate`` brings any older store up to
``LATEST`` step by step and refuses a store written by a newer moebench. Migrations run under a
write lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock) so that several processes
opening a fresh store at once create it exactly once.

Tables are declared in their current shape. A future migration that alters ``runs`` or
``metrics`` must freeze the old shape inside the earlier migration function first.
"""

from __future__ import annotations

import json
from typing import Callable

import sqlalchemy as sa

from harness.errors import HarnessError

METADATA = sa.MetaData()

schema_version = sa.Table(
    "schema_version", METADATA,
    sa.Column("version", sa.Integer, nullable=False),
)

runs = sa.Table(
    "runs", METADATA,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("started_at", sa.DateTime, index=True),  # naive UTC
    sa.Column("finished_at", sa.DateTime),
    sa.Column("stored_at", sa.DateTime, nullable=False),
    sa.Column("harness_version", sa.String(32)),
    sa.Column("result_schema_version", sa.Integer, nullable=False),
    sa.Column("machine_name", sa.String(255)),
    sa.Column("fingerprint", sa.String(64), index=True),
    sa.Column("tags", sa.Text, nullable=False),  # JSON object, all values strings
    sa.Column("document", sa.Text, nullable=False),  # the result.json as stored, for export
)

metrics = sa.Table(
    "metrics", METADATA,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("unit", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # "probe" or "prediction"
    sa.Column("value", sa.Float),  # median of the samples
    sa.Column("best", sa.Float),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("samples", sa.Text, nullable=False),  # JSON list of floats
    sa.Index("ix_metrics_name", "name"),
)

run_tags = sa.Table(
    "run_tags", METADATA,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),  # harness.documents.result.parse_tags allows 256
    sa.Index("ix_run_tags_key_value", "key", "value"),
)


def _v1_runs_and_metrics(conn: sa.Connection) -> None:
    runs.create(conn)
    metrics.create(conn)


def _v2_tag_table(conn: sa.Connection) -> None:
    """Tags move into their own table so selectors (``bios=A``) are an indexed query."""
    run_tags.create(conn)
    rows = conn.execute(sa.select(runs.c.run_id, runs.c.tags)).all()
    for run_id, text in rows:
        try:
            tags = json.loads(text)
        except ValueError:
            continue  # a broken row keeps no tags; reads skip it with a warning
        if isinstance(tags, dict) and tags:
            conn.execute(run_tags.insert(), [{"run_id": run_id, "key": str(k), "value": str(v)}
                                             for k, v in tags.items()])


MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {1: _v1_runs_and_metrics, 2: _v2_tag_table}
LATEST = max(MIGRATIONS)


def read_version(conn: sa.Connection) -> int:
    """The store's schema version; 0 for an empty database."""
    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    return conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0


def _lock(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7172)"))  # any fixed number


def migrate(conn: sa.Connection, target: int = LATEST) -> int:
    """Bring the store to ``target`` inside the caller's write transaction; return the old version."""
    _lock(conn)
    schema_version.create(conn, checkfirst=True)
    current = read_version(conn)
    if current > LATEST:
        raise HarnessError(f"the store has schema version {current}, newer than this moebench "
                           f"understands ({LATEST}); upgrade moebench to use it")
    for version in range(current + 1, target + 1):
        MIGRATIONS[version](conn)
    if target > current:
        conn.execute(schema_version.delete())
        conn.execute(schema_version.insert().values(version=target))
    return current
