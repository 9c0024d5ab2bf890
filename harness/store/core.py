"""The results store: runs and a long table of metrics, in SQLite or PostgreSQL.

One interface over SQLAlchemy Core; the backend is chosen by URL only. Reads never abort on a
broken row: it is skipped with a warning (a hand-edited database or a half-migrated one should
still show its history).
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping, TypeVar

import sqlalchemy as sa

from harness.errors import HarnessError
from harness.documents.result import parse_tags
from harness.store import _schema as S
from harness.store._engine import (create_engine, display_url, resolve_url, retry_busy,
                                   sqlite_path, write_transaction)
from harness.store.fingerprint import fingerprint
from harness.documents.result import Result
from harness.store.results import MetricRecord, check_result, result_metrics

log = logging.getLogger("moebench.store")
T = TypeVar("T")


@dataclass(frozen=True)
class RunInfo:
    """One stored run, without its metrics."""

    run_id: str
    started_at: datetime | None  # UTC
    harness_version: str | None
    machine_name: str | None
    fingerprint: str | None
    tags: dict[str, str] = field(default_factory=dict)


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 text (``Z`` allowed) as naive UTC, the form the store keeps; None if unparsable."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str) and value:
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return dt.astimezone(timezone.utc).replace(tzinfo=None) if dt.tzinfo else dt


def _tags(result: Result) -> dict[str, str]:
    """The run's tags under the same rules ``--tag`` enforces (files may come from anywhere)."""
    return parse_tags([f"{k}={v}" for k, v in result.tags.items()])


def _clip(value: Any, size: int) -> str | None:
    return None if value is None else str(value)[:size]


def _run_row(result: Result) -> dict[str, Any]:
    machine = result.machine
    return {
        "run_id": result.run_id,
        "started_at": parse_time(result.started_at),
        "finished_at": parse_time(result.finished_at),
        "stored_at": datetime.now(timezone.utc).replace(tzinfo=None),
        "harness_version": _clip(result.harness_version, 32),
        "result_schema_version": result.schema_version,
        "machine_name": _clip(machine.raw.get("name"), 255),
        "fingerprint": _clip(machine.fingerprint or fingerprint(machine.raw), 64),
        "tags": json.dumps(_tags(result), sort_keys=True),
        "document": json.dumps(result.to_json(), sort_keys=True),
    }


def _metric_rows(run_id: str, records: Iterable[MetricRecord]) -> list[dict[str, Any]]:
    return [{"run_id": run_id, "name": r.name, "unit": r.unit, "kind": r.kind, "value": r.value,
             "best": r.best, "n": len(r.samples), "samples": json.dumps(list(r.samples))}
            for r in records]


def _parse_tags(run_id: str, text: str) -> dict[str, str] | None:
    try:
        tags = json.loads(text)
    except (TypeError, ValueError):
        tags = None
    if not isinstance(tags, dict):
        log.warning("run %s: unreadable tags in the store; run skipped", run_id)
        return None
    return {str(k): str(v) for k, v in tags.items()}


def _metric_from_row(row: sa.Row) -> MetricRecord | None:
    try:
        samples = tuple(float(v) for v in json.loads(row.samples))
        if not samples:
            raise ValueError("no samples")
    except (TypeError, ValueError) as exc:
        log.warning("run %s metric %s: broken samples in the store (%s); skipped",
                    row.run_id, row.name, exc)
        return None
    return MetricRecord(row.name, row.unit, row.kind, samples, row.best)


def _reason(exc: sa.exc.SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def _one_line_errors(method: Callable[..., T]) -> Callable[..., T]:
    """A lost connection, a full disk or a lock held too long is the environment, not a bug."""
    @functools.wraps(method)
    def wrapper(self: "Store", *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except sa.exc.OperationalError as exc:
            raise HarnessError(f"store {display_url(self.url)}: {_reason(exc)}") from exc
    return wrapper


class Store:
    """A results database. Open with ``open_store(url)``; usable as a context manager."""

    def __init__(self, url: str, engine: sa.Engine) -> None:
        self.url = url
        self.engine = engine

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    @_one_line_errors
    def save(self, result: Result | Mapping[str, Any]) -> str:
        """Store one result document; storing the same run id again changes nothing."""
        result = check_result(result)
        run, records = _run_row(result), result_metrics(result, f"run {result.run_id}")
        try:
            retry_busy(self._insert, run, _metric_rows(run["run_id"], records), _tags(result))
        except sa.exc.IntegrityError:
            if not self.has_run(run["run_id"]):
                raise
            # another process stored the same run between our check and our insert
        return run["run_id"]

    def _insert(self, run: dict[str, Any], metric_rows: list[dict[str, Any]],
                tags: dict[str, str]) -> bool:
        with write_transaction(self.engine) as conn:
            exists = conn.execute(sa.select(S.runs.c.run_id)
                                  .where(S.runs.c.run_id == run["run_id"])).first()
            if exists:
                return False
            conn.execute(S.runs.insert(), [run])
            if metric_rows:
                conn.execute(S.metrics.insert(), metric_rows)
            if tags:
                conn.execute(S.run_tags.insert(), [{"run_id": run["run_id"], "key": k, "value": v}
                                                  for k, v in tags.items()])
            return True

    @_one_line_errors
    def has_run(self, run_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(S.runs.c.run_id)
                                .where(S.runs.c.run_id == run_id)).first() is not None

    @_one_line_errors
    def runs(self, tags: Mapping[str, str] | None = None, *, fingerprint: str | None = None,
             machine: str | None = None, run_id: str | None = None) -> list[RunInfo]:
        """Runs matching every tag (and fingerprint prefix / machine name / id), oldest first."""
        query = sa.select(S.runs.c.run_id, S.runs.c.started_at, S.runs.c.harness_version,
                          S.runs.c.machine_name, S.runs.c.fingerprint, S.runs.c.tags)
        for key, value in (tags or {}).items():
            query = query.where(S.runs.c.run_id.in_(
                sa.select(S.run_tags.c.run_id).where(S.run_tags.c.key == key,
                                                     S.run_tags.c.value == str(value))))
        if fingerprint:
            query = query.where(S.runs.c.fingerprint.startswith(fingerprint, autoescape=True))
        if machine:
            query = query.where(S.runs.c.machine_name == machine)
        if run_id:
            query = query.where(S.runs.c.run_id == run_id)
        query = query.order_by(S.runs.c.started_at, S.runs.c.run_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        out = []
        for r in rows:
            tag_map = _parse_tags(r.run_id, r.tags)
            if tag_map is not None:
                out.append(RunInfo(r.run_id, r.started_at, r.harness_version, r.machine_name,
                                   r.fingerprint, tag_map))
        return out

    @_one_line_errors
    def find_run(self, ref: str) -> str:
        """The full run id for an id or a unique prefix of one (at least 4 characters)."""
        if len(ref) < 4:
            raise HarnessError(f"run {ref!r}: give at least 4 characters of a run id")
        query = sa.select(S.runs.c.run_id).where(S.runs.c.run_id.startswith(ref, autoescape=True))
        with self.engine.connect() as conn:
            ids = conn.execute(query.limit(2)).scalars().all()
        if len(ids) == 1:
            return ids[0]
        what = "is ambiguous" if ids else "matches no run"
        raise HarnessError(f"run {ref!r} {what} in {display_url(self.url)}; "
                           "`moebench history` lists the runs")

    @_one_line_errors
    def load_result(self, run_id: str) -> Result:
        """The result document as it was stored, checked."""
        with self.engine.connect() as conn:
            text = conn.execute(sa.select(S.runs.c.document)
                                .where(S.runs.c.run_id == run_id)).scalar()
        if text is None:
            raise HarnessError(f"run {run_id!r} is not in {display_url(self.url)}")
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise HarnessError(f"run {run_id}: the stored document is broken ({exc})") from exc
        return Result.from_json(document, f"run {run_id}")

    @_one_line_errors
    def metrics(self, run_ids: Iterable[str]) -> dict[str, list[MetricRecord]]:
        """Metrics of each run (broken rows skipped with a warning)."""
        ids = list(run_ids)
        out: dict[str, list[MetricRecord]] = {i: [] for i in ids}
        with self.engine.connect() as conn:
            for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
                query = sa.select(S.metrics).where(S.metrics.c.run_id.in_(chunk))
                for row in conn.execute(query.order_by(S.metrics.c.run_id, S.metrics.c.name)):
                    record = _metric_from_row(row)
                    if record is not None:
                        out[row.run_id].append(record)
        return out

    @_one_line_errors
    def delete(self, run_id: str) -> None:
        """Remove a run and its metrics (for mistakes; there is no CLI for it yet)."""
        def work() -> None:
            with write_transaction(self.engine) as conn:
                for table in (S.metrics, S.run_tags, S.runs):
                    conn.execute(table.delete().where(table.c.run_id == run_id))
        retry_busy(work)


def _migrate(engine: sa.Engine) -> None:
    def work() -> None:
        # connecting is retried too: a fresh file switched to WAL by another process at this very
        # moment answers "database is locked" to the connection's own PRAGMA journal_mode
        with engine.connect() as conn:
            if S.read_version(conn) == S.LATEST:
                return  # the common case needs no write lock
        with write_transaction(engine) as conn:
            S.migrate(conn)
    retry_busy(work)


def open_store(url: str | None = None, *, create: bool = True) -> Store:
    """Open the store at ``url`` / $MOEBENCH_STORE / default, migrating it if it is older.

    ``create=True`` (writers: run, import, check) creates a SQLite file on first use;
    ``create=False`` (readers: history, export, compare) refuses one that does not exist rather
    than leave an empty database behind (and a typo in --store look like a store with no runs).
    """
    resolved = resolve_url(url)
    if not create:
        _require_existing(resolved)
    engine = create_engine(resolved, create=create)
    try:
        _migrate(engine)
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise HarnessError(f"cannot open the store {display_url(resolved)}: {_reason(exc)}; "
                           "check --store or MOEBENCH_STORE") from exc
    except BaseException:
        engine.dispose()
        raise
    return Store(resolved, engine)


def _require_existing(url: str) -> None:
    """Refuse a SQLite store file that does not exist (a server database is the server's business)."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise HarnessError(f"no store at {path}: the file does not exist, so nothing has been stored "
                           "there — check --store or MOEBENCH_STORE, or create it with `moebench run` "
                           "or `moebench import`")
