"""Reports: the spec sheet's context and HTML pinned by golden files, escaping of vendor-supplied
text, self-containment, Markdown/CSV exports, the comparison sheet and ``moebench report``.

Golden files live in tests/golden/report_*; after an intended change, regenerate them with
``MOEBENCH_UPDATE_GOLDEN=1 pytest tests/test_report.py`` and review the diff.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness import report
from harness.app import sources
from harness.report.charts import Bar, Chart, Line, Stack, render_chart
from harness.cli import app
from harness.errors import HarnessError
from harness.report._context import _users, dimm_summary
from harness.report._format import format_bytes, format_seconds, format_sig, format_tokens
from harness.report._render import escape_markdown

GOLDEN = Path(__file__).parent / "golden"
RESULTS = Path(__file__).parent / "data" / "results" / "runs"
UPDATE = os.environ.get("MOEBENCH_UPDATE_GOLDEN") == "1"
VOLATILE = "<normalised>"
runner = CliRunner()


def golden_result(*drop: str) -> dict[str, Any]:
    """The golden input (a ``moebench run`` result on the fake probe, priced); ``drop`` removes
    keys from every prediction, e.g. the stored ``upgrades``."""
    result = json.loads((GOLDEN / "report_result.json").read_text())
    for p in result["predictions"]:
        for key in drop:
            p.pop(key, None)
    return result


def fake_predict(machine, scenario) -> dict[str, Any]:
    """Deterministic stand-in for harness.perf.prediction.predict: the golden pins the report, not the model."""
    rate = {"cpu": 8.0, "hybrid": 16.0, "gpu": 32.0}.get(scenario.placement, 4.0)
    rate *= 1.5 if scenario.quant.name == "q4_k_m" else 1.0
    per_user = rate * 4096 / (4096 + scenario.context / 8) / (1 + 0.05 * (scenario.batch - 1))
    fits = scenario.placement != "gpu" and scenario.context * scenario.batch <= 65536 * 4
    return {"decode_tokens_per_s": per_user, "aggregate_tokens_per_s": per_user * scenario.batch, "fits": fits}


def fake_upgrades(machine, scenario) -> list[dict[str, Any]]:
    return [{"change": "2nd <GPU>", "tokens_per_s": 22.0, "gain_pct": 7.1},
            {"change": "DDR5-6400 → 8000", "tokens_per_s": 24.5, "gain_pct": 19.2}]


def placeholder_svg(chart: Chart) -> str:
    return f'<svg data-chart="{chart.name}" data-kind="{chart.kind}"></svg>'


def normalise(value: Any) -> Any:
    """JSON-ready context with the fields that change from run to run or release to release masked."""
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        out = {k: normalise(v) for k, v in value.items()}
        for key in ("report_version", "generated"):
            if key in out:
                out[key] = VOLATILE
        return out
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value


def normalise_text(text: str) -> str:
    from harness import __version__

    text = text.replace(f"moebench {__version__}", f"moebench {VOLATILE}").replace(f" · {__version__}<", f" · {VOLATILE}<")
    text = text.replace(f' · {__version__}"', f' · {VOLATILE}"')
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC \(generated\)", VOLATILE, text)


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.write_text(actual, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{name} did not exist and was written; review it and rerun")
    assert actual == path.read_text(encoding="utf-8"), f"{name} changed; MOEBENCH_UPDATE_GOLDEN=1 to accept"


def golden_context() -> dict[str, Any]:
    return report.build_context(golden_result(), vendor="Acme <b>Servers</b>", predict_fn=fake_predict,
                                upgrade_fn=fake_upgrades, generated_at="2000-01-01 00:00 UTC (generated)")


# ---------------------------------------------------------------- golden

def test_context_matches_golden():
    text = json.dumps(normalise(golden_context()), indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    check_golden("report_context.json", normalise_text(text))


def test_html_matches_golden():
    html = report.render_report(golden_result(), vendor="Acme <b>Servers</b>", predict_fn=fake_predict,
                                upgrade_fn=fake_upgrades, generated_at="2000-01-01 00:00 UTC (generated)",
                                chart_renderer=placeholder_svg)
    html = re.sub(r"<style>.*?</style>", "<style><!-- _sheet.css --></style>", html, flags=re.S)  # layout, not content
    check_golden("report_sheet.html", normalise_text(html))


def test_markdown_matches_golden():
    text = report.render_markdown(golden_result(), vendor="Acme <b>Servers</b>", predict_fn=fake_predict,
                                  upgrade_fn=fake_upgrades, generated_at="2000-01-01 00:00 UTC (generated)")
    check_golden("report_sheet.md", normalise_text(text))


def test_comparison_markdown_matches_golden():
    results = [json.loads((RESULTS / d / f).read_text()) for d, f in (("bios-A", "run-a1.json"), ("bios-B", "run-b1.json"))]
    text = report.render_comparison_markdown(results, generated_at="2000-01-01 00:00 UTC (generated)")
    check_golden("report_compare.md", normalise_text(text))


# ---------------------------------------------------------------- content

def test_context_sections():
    ctx = golden_context()
    assert ctx["vendor"] == "Acme <b>Servers</b>"  # raw in the context; escaping is the template's job
    assert [f["label"] for f in ctx["key_figures"]][:2] == ["Best decode, batch 1", "Host memory bandwidth"]
    assert any(f["label"] == "Cost per 1M tokens" for f in ctx["key_figures"])
    (model,) = ctx["models"]
    assert model["id"] == "deepseek-v3" and model["has_cost"]
    assert {r["placement"] for r in model["rows"]} == {"cpu", "hybrid", "gpu"}
    assert set(model["charts"]) == {"memory", "time", "context", "batch"}
    assert model["upgrades"]["config"] == "q4_k_m · hybrid"  # the stored rows of the fastest that fits
    gains = [float(r["gain"].rstrip("%")) for r in model["upgrades"]["rows"]]
    assert gains == sorted(gains, reverse=True)
    assert {r["users"] for r in model["rows"]} == {"0"} and model["users_target"] == "20.0"
    assert any(a.startswith("cost: hardware price amortised") for a in model["assumptions"]["common"])
    assert model["assumptions"]["common"] and model["assumptions"]["specific"]
    names = [c.name for c in ctx["charts"]]
    assert names == ["bandwidth", "memory-deepseek-v3", "time-deepseek-v3", "context-deepseek-v3", "batch-deepseek-v3"]
    repro = dict(ctx["reproducibility"])
    assert repro["BIOS"] == "Dell Inc. 1.9.2 (05/06/2025)" and repro["Transparent huge pages"] == "always"
    assert repro["CPU governor"] == "performance" and "threads=64" in repro["Probe settings"]


def test_curves_end_where_the_cache_stops_fitting():
    ctx = golden_context()
    context_chart = next(c for c in ctx["charts"] if c.name.startswith("context-"))
    for line in context_chart.lines:
        values = list(line.ys)
        assert values[0] is not None
        first_gap = values.index(None) if None in values else len(values)
        assert all(v is None for v in values[first_gap:])
        present = [v for v in values if v is not None]
        assert present == sorted(present, reverse=True)  # longer context, slower
    batch_chart = next(c for c in ctx["charts"] if c.name.startswith("batch-"))
    agg = batch_chart.lines[0]
    assert agg.label.endswith("aggregate") and agg.ys[1] > agg.ys[0]


def test_real_predict_draws_curves():
    ctx = report.build_context(golden_result("upgrades"), upgrade_fn=None)
    (model,) = ctx["models"]
    assert {"context", "batch"} <= set(model["charts"])
    assert model["upgrades"] is None
    chart = next(c for c in ctx["charts"] if c.name == model["charts"]["context"])
    assert all(line.ys[0] and line.ys[0] > 0 for line in chart.lines)


def test_upgrades_stored_first_then_computed_else_skipped():
    ctx = report.build_context(golden_result(), predict_fn=fake_predict, upgrade_fn=fake_upgrades)
    assert "2nd <GPU>" not in str(ctx["models"][0]["upgrades"])  # the run's own rows win
    html = report.render_report(golden_result("upgrades"), predict_fn=fake_predict, upgrade_fn=None,
                                chart_renderer=placeholder_svg)
    assert "What to upgrade" not in html
    ctx = report.build_context(golden_result("upgrades"), predict_fn=fake_predict, upgrade_fn=fake_upgrades)
    assert [r["gain"] for r in ctx["models"][0]["upgrades"]["rows"]] == ["+19%", "+7%"]
    html = report.render_report(golden_result("upgrades"), predict_fn=fake_predict, upgrade_fn=fake_upgrades,
                                chart_renderer=placeholder_svg)
    assert "What to upgrade" in html and "2nd &lt;GPU&gt;" in html


@pytest.mark.parametrize("cost", [None, {"cost_per_million_tokens": None, "currency": None}, "absent"])
def test_cost_columns_only_when_priced(cost):
    result = golden_result()
    for p in result["predictions"]:
        if cost == "absent":
            p.pop("cost")
        else:
            p["cost"] = cost
    ctx = report.build_context(result, predict_fn=fake_predict, upgrade_fn=None)
    assert not ctx["models"][0]["has_cost"]
    assert all(f["label"] != "Cost per 1M tokens" for f in ctx["key_figures"])
    html = report.render_report(result, predict_fn=fake_predict, upgrade_fn=None, chart_renderer=placeholder_svg)
    assert "Cost / 1M tok" not in html


def test_nothing_fits_draws_dotted_would_be_curves():
    result = golden_result()
    for p in result["predictions"]:
        p["fits"] = False
    ctx = report.build_context(result, predict_fn=fake_predict, upgrade_fn=None)
    assert ctx["key_figures"][0]["value"] == "does not fit"
    chart = next(c for c in ctx["charts"] if c.name.startswith("context-"))
    assert all(line.style == ":" and "does not fit" in line.label for line in chart.lines)
    assert "No configuration fits" in ctx["models"][0]["curve_note"]


def test_old_and_sparse_results_render():
    old = json.loads((RESULTS / "bios-A" / "run-a1.json").read_text())  # memory as {"host_bytes": n}
    html = report.render_report(old, predict_fn=fake_predict, upgrade_fn=None)
    assert "lab-epyc-01" in html and "24 × 48 GB DDR5 Samsung" in html
    bare = {"schema_version": 1, "run_id": "x", "machine": {"name": "spec box"}, "probes": {}, "predictions": []}
    html = report.render_report(bare, upgrade_fn=None)
    assert "This result holds no predictions." in html and "Nothing measured" in html


@pytest.mark.parametrize("model", ["no-such-model", "CONFIG"])
def test_unknown_model_skips_curves_with_a_reason(tmp_path, model):
    config = tmp_path / "config.json"  # a path in a result file is never opened
    config.write_text((Path(__file__).parents[1] / "harness/workload/configs/deepseek-v3.json").read_text())
    result = golden_result("upgrades")
    for p in result["predictions"]:
        p["inputs"]["model"] = str(config) if model == "CONFIG" else model
    ctx = report.build_context(result, upgrade_fn=None)
    assert ctx["models"][0]["curve_note"].startswith("Curves not drawn:")
    assert "not in this moebench's catalog" in ctx["models"][0]["curve_note"]
    assert "context" not in ctx["models"][0]["charts"] and "B total" not in ctx["models"][0]["facts"]


# ---------------------------------------------------------------- safety and self-containment

MARKUP = '<script>alert(1)</script><img src=x onerror=alert(2)>'


def hostile_result() -> dict[str, Any]:
    result = golden_result()
    result["machine"]["name"] = MARKUP
    result["machine"]["cpu_model"] = "EPYC " + MARKUP
    result["machine"]["gpus"][0]["model"] = "GPU " + MARKUP
    result["machine"]["system"]["bios_version"] = MARKUP
    result["tags"] = {"bios": MARKUP, "x": '"><b>bold</b>'}
    result["predictions"][0]["assumptions"].append(MARKUP)
    result["predictions"][0]["bottleneck"] = MARKUP
    return result


def test_markup_in_names_tags_and_vendor_is_escaped():
    html = report.render_report(hostile_result(), vendor=MARKUP, predict_fn=fake_predict, upgrade_fn=fake_upgrades)
    assert "<script" not in html and "<img src=x" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("&lt;img src=x onerror=alert(2)&gt;") >= 6  # name, cpu, bios, tag, vendor, assumption, ...
    # the GPU model is also a label inside the bandwidth chart's SVG: matplotlib escapes it there
    svg = html[html.index('id="chart-bandwidth"'):]
    svg = svg[:svg.index("</figure>")]
    assert "GPU &lt;script&gt;" in svg and "<script" not in svg


def test_html_is_self_contained():
    html = report.render_report(golden_result(), predict_fn=fake_predict, upgrade_fn=fake_upgrades)
    assert 'http-equiv="Content-Security-Policy"' in html and "default-src 'none'" in html
    assert "<script" not in html.lower() and "javascript:" not in html.lower()
    assert "http://" not in html and "https://" not in html and "//" not in re.sub(r"<!--.*?-->", "", html).replace("://", "")
    assert not re.search(r"""\b(?:src|href)\s*=\s*["'](?!data:|#)""", html)
    assert "@media print" in html and "size: A4" in html
    assert html.count("<svg") >= 3
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "inline SVGs must not share element ids"


def test_logo_is_embedded_as_data_uri(tmp_path):
    png = tmp_path / "logo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    logo = report.load_logo(png)
    assert logo.mime == "image/png" and logo.data_uri.startswith("data:image/png;base64,")
    html = report.render_report(golden_result(), vendor="Acme", logo=logo, predict_fn=fake_predict,
                                upgrade_fn=None, chart_renderer=placeholder_svg)
    assert f'<img src="{logo.data_uri}" alt="Acme">' in html
    svg = tmp_path / "logo.svg"
    svg.write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')
    assert report.load_logo(svg).mime == "image/svg+xml"


def test_bad_logo_is_refused(tmp_path):
    text = tmp_path / "logo.png"
    text.write_text("not an image")
    with pytest.raises(HarnessError, match="not a PNG"):
        report.load_logo(text)
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (600 * 1024))
    with pytest.raises(HarnessError, match="at most"):
        report.load_logo(big)
    with pytest.raises(HarnessError, match="no such file"):
        report.load_logo(tmp_path / "missing.png")


def test_markdown_escapes_and_csv_defuses_formulas():
    result = hostile_result()
    result["machine"]["name"] = "=HYPERLINK(\"http://evil\")|<b>"
    md = report.render_markdown(result, vendor="A|B", predict_fn=fake_predict, upgrade_fn=None)
    assert "<script" not in md and "<img" not in md and "&lt;script&gt;" in md and "A\\|B" in md
    assert md.startswith("# =HYPERLINK") and "\\|&lt;b&gt;" in md.splitlines()[0]
    rows = list(csv.reader(io.StringIO(report.render_csv(result))))
    assert rows[0][:5] == ["run_id", "machine", "model", "quant", "placement"]
    assert len(rows) == 1 + len(result["predictions"])
    assert rows[1][1] == "'=HYPERLINK(\"http://evil\")|<b>"  # a spreadsheet shows it, never runs it
    assert escape_markdown("a|b\n*c*") == "a\\|b \\*c\\*"


# ---------------------------------------------------------------- formatting and charts

def test_formatters():
    assert format_sig(1234.5) == "1,234" and format_sig(45.67) == "45.7" and format_sig(0.1234) == "0.123"
    assert format_bytes(673438409392.0) == "673.4 GB" and format_bytes(1.15e12) == "1.15 TB"
    assert format_seconds(0.0712) == "71.2 ms" and format_seconds(20.56) == "20.6 s"
    assert format_tokens(4096) == "4k" and format_tokens(5994555) == "6.0M" and format_tokens(None) == "—"
    assert _users({"max_users": 4096, "capped_at_search_limit": True}) == "4096+" and _users(None) == "—"
    dimms = [{"size_bytes": 48 * 2**30, "type": "DDR5", "manufacturer": "Samsung", "part_number": "P",
              "configured_speed_mts": 6000, "speed_mts": 6400}] * 12
    assert dimm_summary(dimms, 24) == "12 × 48 GB DDR5 Samsung P @ 6000 MT/s (12 of 24 slots)"


def test_charts_render_every_kind_reproducibly():
    charts = [
        Chart("b", "bars", "t", "GB/s", bars=(Bar("x", 1.0, "measured"), Bar("y $5", 2.0, "theoretical"))),
        Chart("s", "stacks", "t", "GB", stacks=(Stack("a", {"attention": 1.0, "kv_cache": 0.5}, "Host", 3.0),
                                                Stack("a", {"routed_experts": 9.0}, "GPU", 2.0))),
        Chart("l", "lines", "t", "tok/s", lines=(Line("a", (1024, 2048), (3.0, None)),), xlog2=True),
    ]
    for chart in charts:
        svg = render_chart(chart)
        assert svg.startswith('<svg role="img" aria-label="t') and svg.endswith("</svg>") and "http" not in svg
        assert svg == render_chart(chart)  # no dates, no random ids
    assert "y $5" in render_chart(charts[0])  # a dollar sign is text, not mathtext
    assert 'aria-label="a &lt;b&gt; &quot;c&quot;"' in render_chart(dataclasses.replace(charts[2], title='a <b> "c"', unit=""))
    with pytest.raises(ValueError):
        render_chart(Chart("z", "pie", "t"))


# ---------------------------------------------------------------- comparison

def comparison_results() -> list[dict[str, Any]]:
    return [json.loads((RESULTS / d / f).read_text()) for d, f in (("bios-A", "run-a1.json"), ("bios-B", "run-b1.json"))]


def test_comparison_flags_differences_and_regressions():
    ctx = report.build_comparison_context(comparison_results())
    assert ctx["labels"] == ["bios=A", "bios=B"]
    differing = {row["name"] for row in ctx["settings"] if row["differs"]}
    assert differing == {"tag bios"}
    triad = next(m for m in ctx["metrics"] if m["name"] == "stream_triad")
    assert triad["cells"][1]["verdict"] == "regressed" and triad["cells"][1]["change"].startswith("-30.")
    assert [c.name for c in ctx["charts"]] == ["compare-probes", "compare-decode"]
    assert ctx["summary"] == ["bios=B vs bios=A: 4 regressed, 1 unchanged"]
    html = report.render_comparison(comparison_results(), chart_renderer=placeholder_svg)
    assert 'class="diff"' in html and "regressed" in html


def test_comparison_labels_fall_back_to_run_ids():
    a, b = comparison_results()
    b["tags"] = dict(a["tags"])
    assert report.run_labels([a, b]) == [a["run_id"][:8], b["run_id"][:8]]
    assert report.run_labels([a, a]) == [f"{a['run_id'][:8]} ({a['run_id'][:6]})"] * 2


# ---------------------------------------------------------------- command line

def write_run(tmp_path: Path, result: dict[str, Any]) -> Path:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "result.json").write_text(json.dumps(result))
    return folder


def test_report_command_writes_html_beside_the_result(tmp_path):
    folder = write_run(tmp_path, golden_result())
    res = runner.invoke(app, ["report", str(folder), "--vendor", "Acme <i>", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == {"html": str(folder / "report.html")}
    html = (folder / "report.html").read_text()
    assert "Acme &lt;i&gt;" in html and html.count("<svg") >= 3


def test_report_command_markdown_and_csv(tmp_path):
    folder = write_run(tmp_path, golden_result())
    res = runner.invoke(app, ["report", str(folder / "result.json"), "--markdown", "-", "--csv", str(tmp_path / "p.csv")])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("# PowerEdge R7725")
    assert not (folder / "report.html").exists()  # only what was asked for
    assert (tmp_path / "p.csv").read_text().count("\n") == 1 + len(golden_result()["predictions"])


def test_report_command_compares_several(tmp_path):
    a, b = (str(RESULTS / "bios-A" / "run-a1.json"), str(RESULTS / "bios-B" / "run-b1.json"))
    out = tmp_path / "cmp.html"
    res = runner.invoke(app, ["report", a, b, "--html", str(out), "--csv", "-"])
    assert res.exit_code == 0, res.output
    assert "bios=A vs bios=B" in out.read_text()
    assert res.stdout.count("a1000000000000000000000000000001") == 2 and "b1000000" in res.stdout


def test_report_command_finds_a_stored_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from harness.store import save_result

    result = golden_result()
    save_result(result)
    res = runner.invoke(app, ["report", result["run_id"][:8]])
    assert res.exit_code == 0, res.output
    assert (tmp_path / f"moebench-report-{result['run_id'][:12]}.html").exists()


@pytest.mark.parametrize("args, message", [
    (["report", "no/such/result.json"], "no such file"),
    (["report", "zzzz9999"], "not a file or folder"),
    (["report", "RUN", "--logo", "LOGO"], "not a PNG"),
    (["report", "RUN", "--vendor", "v" * 200], "at most"),
])
def test_report_command_bad_input_exits_2(tmp_path, capsys, args, message):
    from harness.cli import main

    folder = write_run(tmp_path, golden_result())
    (tmp_path / "logo.png").write_text("text")
    args = [str(folder) if a == "RUN" else str(tmp_path / "logo.png") if a == "LOGO" else a for a in args]
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_run_pipeline_writes_the_sheet(tmp_path, fake_probe_fn):
    from harness.app.run import run_benchmark

    run_benchmark(quick=True, probe_fn=fake_probe_fn, out_dir=tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert html.count("<svg") >= 3 and "Decode tokens/s vs context length" in html


def test_broken_result_is_refused(tmp_path):
    broken = RESULTS / "broken" / "truncated.json"
    with pytest.raises(HarnessError):
        sources.load_source(str(broken))
    future = copy.deepcopy(golden_result())
    future["schema_version"] = 99
    path = tmp_path / "future.json"
    path.write_text(json.dumps(future))
    with pytest.raises(HarnessError, match="newer"):
        sources.load_source(str(path))


def test_report_files_is_the_command_as_a_function(tmp_path):
    folder = write_run(tmp_path, golden_result())
    written = sources.report_files([str(folder)], markdown=str(tmp_path / "s.md"))
    assert written == {"markdown": str(tmp_path / "s.md")}  # only what was asked for
    assert (tmp_path / "s.md").read_text().startswith("# PowerEdge R7725")
    assert sources.report_files([str(folder)]) == {"html": str(folder / "report.html")}
    with pytest.raises(HarnessError, match="no run given"):
        report.render_outputs([])


def test_identical_gpus_are_grouped(fake_probe):
    from harness.app.run import run_benchmark

    gpu = fake_probe["gpu"]["gpus"][0] | {"name": "NVIDIA H200", "memory_total_bytes": 143771 * 2**20,
                                          "theoretical_bandwidth_gbs": 4800.0, "bf16_tflops": 989.0}
    fake_probe["gpu"]["gpus"] = [gpu | {"index": i} for i in range(8)]
    result = run_benchmark(quick=True, probe_fn=lambda **_: fake_probe)
    ctx = report.build_context(result, predict_fn=fake_predict, upgrade_fn=None)
    assert [v for k, v in ctx["hardware"] if k == "GPU"] == [
        "8 × NVIDIA H200 · 140.4 GB · 4,800 GB/s · 989 TFLOP/s BF16 · PCIe 5.0 ×16"]
    assert [b.label for b in ctx["charts"][0].bars if "H200" in b.label] == ["NVIDIA H200 (rated)"]
