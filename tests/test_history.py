"""``moebench history``: series and steps (pure), text/JSON/HTML rendering, the command."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

import pytest
from pg import pg_server, pg_url  # noqa: F401  (fixtures)

from harness.errors import HarnessError
from harness.analysis.history import build_history, format_history, history_to_dict, select_metrics
from harness.report.history import render_html
from harness.store import RunInfo, import_results, resolve_url
from harness.store import _schema as S
from harness.store._engine import create_engine
from harness.store.results import MetricRecord
from test_compare_cli import RUNS, cli


def _runs(values: list[float]) -> tuple[list[RunInfo], dict[str, list[MetricRecord]]]:
    runs = [RunInfo(f"run{i:04d}", datetime(2026, 11, 1 + i), "0.1.0", "box", "f00d",
                    {"bios": "A" if i < 3 else "B"}) for i in range(len(values))]
    metrics = {r.run_id: [MetricRecord("stream_triad", "GB/s", "probe", (v * 0.99, v, v * 1.01)),
                          MetricRecord("ttft_s@m/q/cpu", "s", "prediction", (2.0,))]
               for r, v in zip(runs, values)}
    return runs, metrics


def test_series_and_change_point_from_literal_runs():
    runs, metrics = _runs([900, 905, 895, 630, 628])
    history = build_history(runs, metrics, ["stream_triad"])
    [series] = history.series
    assert [p.value for p in series.points] == [900, 905, 895, 630, 628]
    assert series.points[0].low == pytest.approx(891.0)
    assert [(c.index, c.verdict) for c in series.change_points] == [(3, "regressed")]


def test_metric_patterns():
    names = ["decode_tokens_per_s@a/fp8/cpu", "decode_tokens_per_s@a/q4_k_m/cpu", "stream_triad"]
    assert select_metrics(names, ["decode_tokens_per_s@*"]) == names[:2]
    with pytest.raises(HarnessError, match="no stored metric matches stream_tria"):
        select_metrics(names, ["stream_tria"])


def test_text_table_and_steps():
    runs, metrics = _runs([900, 905, 895, 630, 628])
    text = format_history(build_history(runs, metrics))
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["run", "started", "(UTC)", "machine"]
    assert "stream_triad" in lines[0] and "ttft_s@m/q/cpu" not in lines[0]  # headline only
    assert lines[1].startswith("run0000") and "900.0 GB/s" in lines[1]
    assert lines[-1] == ("step in stream_triad at run run0003 (2026-11-04 00:00): "
                         "900.0 GB/s -> 629.0 GB/s (-30.1%, regressed)")


def test_json_is_plain_data():
    runs, metrics = _runs([900, 630])
    data = json.loads(json.dumps(history_to_dict(build_history(runs, metrics))))
    assert data["runs"][0]["started_at"] == "2026-11-01T00:00:00Z"
    assert data["metrics"]["stream_triad"]["change_points"][0]["run_id"] == "run0001"


def test_html_has_a_chart_per_metric_with_steps_marked_and_is_reproducible():
    runs, metrics = _runs([900, 905, 895, 630, 628])
    history = build_history(runs, metrics)
    page = render_html(history, "bios=A")
    assert page.count("<svg") == 2 and 'id="change-point-regressed' in page
    assert 'class="regressed">step at run run0003' in page
    assert render_html(history, "bios=A") == page


@pytest.fixture(params=["sqlite", "postgresql"])
def loaded(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = (f"sqlite:///{tmp_path / 's.sqlite'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    import_results([RUNS / "bios-A", RUNS / "bios-B"], url=url)
    return url


def test_history_command(loaded, tmp_path, capsys):
    html = tmp_path / "h.html"
    code, out, _ = cli(capsys, "history", "--html", html, "--store", loaded)
    assert code == 0 and "4 run(s)" in out and "step in stream_triad at run b10000000000" in out
    assert html.read_text().count("<svg") == 9
    code, out, _ = cli(capsys, "history", "--tag", "bios=B", "--metric", "gemm_fp32", "--json",
                       "--store", loaded)
    data = json.loads(out)
    assert code == 0 and list(data["metrics"]) == ["gemm_fp32"] and len(data["runs"]) == 2


def test_history_survives_a_broken_row(loaded, capsys, caplog):
    engine = create_engine(resolve_url(loaded))
    with engine.begin() as conn:
        conn.execute(S.metrics.update().where(S.metrics.c.name == "stream_triad",
                                              S.metrics.c.run_id.startswith("a1"))
                     .values(samples="{"))
    engine.dispose()
    with caplog.at_level(logging.WARNING, logger="moebench.store"):
        code, out, _ = cli(capsys, "history", "--metric", "stream_triad", "--json",
                           "--store", loaded)
    assert code == 0 and len(json.loads(out)["metrics"]["stream_triad"]["points"]) == 3
    assert "broken samples" in caplog.text


def test_unknown_metric_is_exit_2(loaded, capsys):
    code, _, err = cli(capsys, "history", "--metric", "nope", "--store", loaded)
    assert code == 2 and err.startswith("error: no stored metric matches nope")


def test_history_text_is_pinned(loaded, capsys):
    code, out, _ = cli(capsys, "history", "--store", loaded)
    assert code == 0 and out == (RUNS.parent / "golden" / "history.txt").read_text()


# --- bad options are refused before the store is read (and a missing store is not created) ----

@pytest.mark.parametrize("args, needle", [
    (["--threshold", "nan"], "--threshold nan"),
    (["--threshold", "-1"], "--threshold -1"),
    (["--threshold", "inf"], "--threshold inf"),
    (["--metric", ""], "--metric is empty"),
    (["--metric", "  "], "--metric is empty"),
    (["--html", "{t}"], "is a directory"),
    (["--html", "{t}/afile/h.html"], "is a file"),
])
def test_bad_history_options_are_refused_before_the_store(args, needle, tmp_path, capsys):
    (tmp_path / "afile").write_bytes(b"x")
    args = [a.replace("{t}", str(tmp_path)) for a in args]
    code, out, err = cli(capsys, "history", *args, "--store", tmp_path / "nope.sqlite")
    assert code == 2 and out == "" and needle in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_history_refuses_a_store_that_does_not_exist(tmp_path, capsys):
    code, _, err = cli(capsys, "history", "--store", tmp_path / "nope.sqlite")
    assert code == 2 and err.startswith("error: no store at") and "does not exist" in err
    assert list(tmp_path.iterdir()) == []


def test_build_history_checks_its_threshold_and_patterns():
    runs, metrics = _runs([300, 301, 299])
    with pytest.raises(HarnessError, match="threshold"):
        build_history(runs, metrics, threshold=float("nan"))
    with pytest.raises(HarnessError, match="--metric is empty"):
        build_history(runs, metrics, [""])
