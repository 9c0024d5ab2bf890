"""The results store on SQLite and on a real PostgreSQL (tests/pg.py starts one)."""

from __future__ import annotations

import json
import logging
import multiprocessing
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from pg import pg_server, pg_url  # noqa: F401  (fixtures)

from harness.errors import HarnessError
from harness.store import (default_url, export_run, fingerprint, import_results, load_runs,
                           load_samples, open_store, resolve_url, result_metrics, save_result)
from harness.store import _schema as S
from harness.store._engine import create_engine, write_transaction
from harness.store.results import check_result, iter_result_files

GOLDEN = Path(__file__).parent / "data" / "results" / "runs"
MACHINE = {"name": "box-1", "cpu_model": "AMD EPYC 9355", "sockets": 2, "cores_per_socket": 32,
           "gpus": [], "system": {"dimms": [{"locator": "P0_A", "size_bytes": 2**36,
                                             "type": "DDR5", "speed_mts": 6400}]}}


def make_result(bios: str = "A", triad: float = 300.0, *, run_id: str | None = None,
                started: str = "2026-11-20T09:00:00Z") -> dict:
    samples = [triad * f for f in (1.0, 1.01, 0.99, 1.005, 0.995)]
    return {"schema_version": 1, "run_id": run_id or uuid.uuid4().hex, "started_at": started,
            "finished_at": started, "harness_version": "0.1.0", "tags": {"bios": bios},
            "machine": dict(MACHINE),
            "probes": {"stream_triad": {"samples": samples, "best": max(samples),
                                        "median": triad, "cv": 0.01, "unit": "GB/s"}},
            "predictions": [{"inputs": {"model": "deepseek-v3", "quant": "fp8",
                                        "placement": "cpu", "context": 4096, "batch": 1},
                             "decode_tokens_per_s": triad / 30, "prefill_tokens_per_s": 50.0,
                             "ttft_s": 80.0, "fits": True, "bottleneck": "memory",
                             "memory": {}, "assumptions": []}]}


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("pg_url")


def test_save_and_read_back(store_url):
    doc = make_result("A", 300.0)
    assert save_result(doc, store_url) == doc["run_id"]
    with open_store(store_url) as store:
        [run] = store.runs()
        assert run.tags == {"bios": "A"} and run.machine_name == "box-1"
        assert run.fingerprint == fingerprint(MACHINE)
        assert run.started_at.isoformat() == "2026-11-20T09:00:00"
        metrics = {m.name: m for m in store.metrics([run.run_id])[run.run_id]}
        assert metrics["stream_triad"].samples == tuple(doc["probes"]["stream_triad"]["samples"])
        assert metrics["decode_tokens_per_s@deepseek-v3/fp8/cpu"].samples == (10.0,)
        assert store.load_result(run.run_id) == doc


def test_saving_a_run_twice_keeps_one(store_url):
    doc = make_result()
    save_result(doc, store_url)
    save_result(doc, store_url)
    with open_store(store_url) as store:
        assert len(store.runs()) == 1


def test_tag_selection_and_prefix_lookup(store_url):
    a = save_result(make_result("A", run_id="aaaa" + "0" * 28), store_url)
    save_result(make_result("B", run_id="bbbb" + "0" * 28), store_url)
    with open_store(store_url) as store:
        assert [r.run_id for r in store.runs({"bios": "A"})] == [a]
        assert store.runs({"bios": "C"}) == []
        assert store.runs(fingerprint=fingerprint(MACHINE)[:6]) != []
        assert store.find_run("aaaa") == a
        with pytest.raises(HarnessError, match="matches no run"):
            store.find_run("cccc")
        with pytest.raises(HarnessError, match="at least 4"):
            store.find_run("a")


def test_load_runs_is_one_row_per_run(store_url):
    save_result(make_result("A", 300.0, started="2026-11-20T09:00:00Z"), store_url)
    save_result(make_result("B", 210.0, started="2026-11-21T09:00:00Z"), store_url)
    frame = load_runs(store_url)
    assert list(frame["tag.bios"]) == ["A", "B"]
    assert list(frame["stream_triad"]) == pytest.approx([300.0, 210.0])
    assert list(load_runs(store_url, bios="B")["stream_triad"]) == pytest.approx([210.0])
    samples = load_samples(store_url, bios="A")
    assert len(samples[samples.metric == "stream_triad"]) == 5


def test_broken_rows_are_skipped_with_a_warning(store_url, caplog):
    good, bad_tags = make_result("A"), make_result("A")
    save_result(good, store_url)
    save_result(bad_tags, store_url)
    engine = create_engine(resolve_url(store_url))
    with engine.begin() as conn:
        conn.execute(S.metrics.update().where(S.metrics.c.run_id == good["run_id"],
                                              S.metrics.c.name == "stream_triad")
                     .values(samples="[1.0, oops"))
        conn.execute(S.runs.update().where(S.runs.c.run_id == bad_tags["run_id"])
                     .values(tags="{broken"))
    engine.dispose()
    with caplog.at_level(logging.WARNING, logger="moebench.store"), open_store(store_url) as store:
        runs = store.runs({"bios": "A"})
        names = [m.name for m in store.metrics([good["run_id"]])[good["run_id"]]]
    assert [r.run_id for r in runs] == [good["run_id"]]
    assert "stream_triad" not in names and "decode_tokens_per_s@deepseek-v3/fp8/cpu" in names
    assert "broken samples" in caplog.text and "unreadable tags" in caplog.text


def test_a_version_1_store_is_migrated_and_its_tags_backfilled(store_url):
    engine = create_engine(resolve_url(store_url))
    with write_transaction(engine) as conn:
        S.migrate(conn, target=1)
        conn.execute(S.runs.insert().values(
            run_id="old1", started_at=None, stored_at=sa.func.now(), result_schema_version=1,
            tags=json.dumps({"bios": "A"}), document=json.dumps(make_result(run_id="old1"))))
    engine.dispose()
    with open_store(store_url) as store:
        assert [r.run_id for r in store.runs({"bios": "A"})] == ["old1"]
        with store.engine.connect() as conn:
            assert S.read_version(conn) == S.LATEST == 2


def test_a_store_from_a_newer_moebench_is_refused(store_url):
    open_store(store_url).close()
    engine = create_engine(resolve_url(store_url))
    with engine.begin() as conn:
        conn.execute(S.schema_version.update().values(version=S.LATEST + 1))
    engine.dispose()
    with pytest.raises(HarnessError, match="newer than this moebench"):
        open_store(store_url)


def test_import_skips_broken_files_and_export_round_trips(store_url, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="moebench.store"):
        report = import_results([GOLDEN], url=store_url)
    assert len(report.added) == 4 and len(report.skipped) == 2
    assert "newer than this moebench" in caplog.text and "not valid JSON" in caplog.text
    assert len(import_results([GOLDEN / "bios-A"], url=store_url).present) == 2
    out = export_run("b100", tmp_path / "b1.json", url=store_url)
    assert out == tmp_path / "b1.json"
    assert json.loads(out.read_text()) == json.loads((GOLDEN / "bios-B" / "run-b1.json").read_text())


# --- concurrency ---------------------------------------------------------------------------------

def _write_many(url: str, docs: list[dict], barrier) -> None:  # noqa: ANN001 (mp Barrier)
    barrier.wait()
    for doc in docs:
        save_result(doc, url)


def test_eight_parallel_writers_into_one_fresh_store_all_land(store_url):
    """Also creates the schema from 8 processes at once (SQLite lock / PostgreSQL advisory lock)."""
    url = store_url
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(8)
    batches = [[make_result(f"w{w}") for _ in range(5)] for w in range(8)]
    procs = [ctx.Process(target=_write_many, args=(url, batch, barrier)) for batch in batches]
    start = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    elapsed = time.perf_counter() - start
    assert [p.exitcode for p in procs] == [0] * 8
    with open_store(url) as store:
        stored = {r.run_id for r in store.runs()}
        assert stored == {d["run_id"] for batch in batches for d in batch}
        assert len(store.runs({"bios": "w3"})) == 5
        if url.startswith("sqlite"):
            with store.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    print(f"8 writers x 5 runs: {len(stored)} stored in {elapsed:.2f}s")


# --- locating the store ------------------------------------------------------------------------

def test_default_store_is_in_the_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("MOEBENCH_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_url() == f"sqlite:///{tmp_path / 'moebench' / 'results.sqlite'}"
    save_result(make_result())
    assert (tmp_path / "moebench" / "results.sqlite").exists()


def test_url_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("MOEBENCH_STORE", str(tmp_path / "env.sqlite"))
    assert resolve_url(None) == f"sqlite:///{tmp_path / 'env.sqlite'}"
    assert resolve_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert resolve_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert resolve_url("sqlite:///x.db") == "sqlite:///x.db"


def test_unreachable_store_is_one_clear_error():
    with pytest.raises(HarnessError, match="cannot open the store postgresql"):
        open_store("postgresql://nobody:secret@127.0.0.1:1/none")
    with pytest.raises(HarnessError) as info:
        open_store("postgresql://nobody:secret@127.0.0.1:1/none")
    assert "secret" not in str(info.value)


# --- result documents and fingerprints ---------------------------------------------------------

def test_newer_or_foreign_documents_are_refused():
    with pytest.raises(HarnessError, match="newer"):
        check_result(dict(make_result(), schema_version=2))
    with pytest.raises(HarnessError, match="no schema_version"):
        check_result({"run_id": "x"})
    with pytest.raises(HarnessError, match="no run_id"):
        check_result({"schema_version": 1})
    with pytest.raises(HarnessError, match="newer"):
        save_result(dict(make_result(), schema_version=2), "sqlite://")


def test_unusable_probe_is_skipped_not_fatal(caplog):
    doc = make_result()
    doc["probes"]["stream_copy"] = {"samples": [float("nan")], "unit": "GB/s"}
    with caplog.at_level(logging.WARNING, logger="moebench.store"):
        names = [m.name for m in result_metrics(doc)]
    assert "stream_copy" not in names and "stream_triad" in names
    assert "stream_copy" in caplog.text


def test_scan_skips_broken_files(caplog):
    with caplog.at_level(logging.WARNING, logger="moebench.store"):
        found = [doc["run_id"][:2] for _, doc in iter_result_files([GOLDEN])]
    assert sorted(found) == ["a1", "a2", "b1", "b2"]
    assert caplog.text.count("skipped") == 2


def test_fingerprint_ignores_host_name_bios_and_smt():
    changed = dict(MACHINE, name="other-host", threads=64, numa_nodes=8,
                   system={"bios_version": "2.0", "dimms": [dict(MACHINE["system"]["dimms"][0],
                                                                 configured_speed_mts=4800)]})
    assert fingerprint(changed) == fingerprint(MACHINE)


def test_fingerprint_changes_with_dimms_and_gpus():
    swapped = dict(MACHINE, system={"dimms": [dict(MACHINE["system"]["dimms"][0],
                                                   part_number="M321R8GA0PB0-CWMKH")]})
    with_gpu = dict(MACHINE, gpus=[{"model": "RTX 5090D", "count": 1, "memory_gb": 31.8}])
    assert len({fingerprint(MACHINE), fingerprint(swapped), fingerprint(with_gpu)}) == 3


def test_fingerprint_ignores_dimm_order():
    dimms = [{"locator": f"P0_{c}", "size_bytes": 2**36, "type": "DDR5"} for c in "ABCD"]
    assert (fingerprint(dict(MACHINE, system={"dimms": dimms}))
            == fingerprint(dict(MACHINE, system={"dimms": dimms[::-1]})))


def test_oversized_fields_never_reach_the_database(store_url, caplog):
    doc = make_result()
    doc["machine"]["name"] = "h" * 400
    doc["probes"]["x" * 300] = {"samples": [1.0], "unit": "GB/s"}
    with caplog.at_level(logging.WARNING, logger="moebench.store"):
        save_result(doc, store_url)
    with open_store(store_url) as store:
        [run] = store.runs()
        assert len(run.machine_name) == 255
        assert "x" * 300 not in {m.name for m in store.metrics([run.run_id])[run.run_id]}
    assert "over 255 characters" in caplog.text
    with pytest.raises(HarnessError, match="longer than 256"):
        save_result(dict(make_result(), tags={"bios": "v" * 300}), store_url)


def test_store_location_errors_are_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(HarnessError, match="cannot create the store folder"):
        open_store(str(tmp_path / "file" / "sub" / "s.sqlite"))
    with pytest.raises(HarnessError, match="no database driver"):
        open_store("mysql://u@h/db")


def test_delete_removes_a_run_and_its_metrics(store_url):
    keep, drop = save_result(make_result(), store_url), save_result(make_result(), store_url)
    with open_store(store_url) as store:
        store.delete(drop)
        assert [r.run_id for r in store.runs()] == [keep]
        assert store.metrics([drop]) == {drop: []}


def test_a_store_gone_away_is_one_line(tmp_path):
    path = tmp_path / "s.sqlite"
    store = open_store(str(path))
    store.engine.dispose()
    path.unlink()
    (tmp_path / "s.sqlite").mkdir()  # the file is now a directory: SQLite cannot open it
    with pytest.raises(HarnessError, match="store sqlite"):
        store.runs()
    store.close()


# --- reading never creates a store ------------------------------------------------------------

def test_readers_refuse_a_store_file_that_does_not_exist(tmp_path):
    missing = tmp_path / "sub" / "nope.sqlite"
    with pytest.raises(HarnessError, match="no store at .*nope.sqlite.*does not exist"):
        open_store(str(missing), create=False)
    for read in (load_runs, load_samples):
        with pytest.raises(HarnessError, match="no store at"):
            read(str(missing))
    with pytest.raises(HarnessError, match="no store at"):
        export_run("abcd1234", tmp_path / "x.json", url=str(missing))
    assert list(tmp_path.iterdir()) == []  # no file, not even the folder


def test_writers_still_create_the_store(tmp_path):
    url = str(tmp_path / "new" / "s.sqlite")
    save_result(make_result(), url)
    assert (tmp_path / "new" / "s.sqlite").is_file()
    assert import_results([], url=str(tmp_path / "other.sqlite")).summary().startswith("imported 0")
    assert (tmp_path / "other.sqlite").is_file()
    with open_store(url, create=False) as store:  # an existing file opens for reading as before
        assert len(store.runs()) == 1


def test_in_memory_and_server_urls_are_not_checked_for_a_file():
    with open_store("sqlite://", create=False) as store:
        assert store.runs() == []


def test_export_checks_its_target_before_reading_the_store(tmp_path):
    (tmp_path / "afile").write_bytes(b"x")
    with pytest.raises(HarnessError, match="--out .*afile is a file"):
        export_run("abcd1234", tmp_path / "afile" / "x.json", url=str(tmp_path / "nope.sqlite"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_a_store_locked_while_connecting_is_retried(tmp_path, monkeypatch):
    """Another process switching a fresh file to WAL makes our connection's own PRAGMA answer
    "database is locked": opening the store retries that like any busy write."""
    import sqlite3

    from harness.store import _engine

    calls = {"n": 0}
    real = _engine._sqlite_on_connect

    def flaky(dbapi_conn, record):  # noqa: ANN001
        calls["n"] += 1
        if calls["n"] == 1:
            raise sqlite3.OperationalError("database is locked")
        real(dbapi_conn, record)

    monkeypatch.setattr(_engine, "_sqlite_on_connect", flaky)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with open_store(url) as store:
        assert store.runs() == []
    assert calls["n"] >= 2


def test_negative_metrics_are_not_stored_as_figures():
    """A damaged file's −5 GB/s is not a regression to report: the metric is skipped, the rest kept."""
    doc = make_result(triad=300.0)
    doc["probes"]["stream_triad"] = {"samples": [-5.0, -5.0], "best": -5.0, "median": -5.0, "unit": "GB/s"}
    doc["predictions"][0]["ttft_s"] = -3.0
    names = {m.name for m in result_metrics(doc)}
    assert "stream_triad" not in names and not any(n.startswith("ttft_s@") for n in names)
    assert any(n.startswith("decode_tokens_per_s@") for n in names)
