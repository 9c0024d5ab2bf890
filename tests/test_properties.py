"""Property tests (hypothesis) for the parsers at the edge: any input either parses or raises
``HarnessError``, nothing else (issue 8). Machine specs, probe reports, result files, model
configs and tags; documents are generated both from scratch and by spoiling a good one.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import HarnessError
from harness.fsutil import safe_name
from harness.hardware.machine import Machine
from harness.workload.scenario import Scenario
from harness.predict import predict
from harness.documents.result import check_schema, load_result, parse_tags
from harness.documents.specs import PROBE_SCHEMA_VERSION
from harness.documents.machines import machine_from_document, parse_machine_text
from conftest import FAKE_PROBE
from test_bad_inputs import CONFIG, SPEC, _result

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# JSON values, from scratch: the shapes a damaged or hostile file can have.
scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20))
json_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(st.text(max_size=12), kids, max_size=5), max_leaves=20)
# Values a careless editor puts in a number field.
numberish = (st.integers(-10**12, 10**12) | st.floats(allow_nan=True, allow_infinity=True)
             | st.sampled_from([0, -1, 1, 2**63, 10**30, 10**400, -10**400, 0.0, 1e-300, 1e300, "", "8", "x", True,
                               None, [], {}]))


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in a nested document (dicts and lists)."""
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, prefix + (i,))
    return out


def _spoil(base: dict[str, Any], data: st.DataObject, values: st.SearchStrategy) -> dict[str, Any]:
    """``base`` with one to three of its values (at any depth) replaced or deleted."""
    doc = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        *parents, last = data.draw(st.sampled_from(paths))
        node: Any = doc
        try:
            for p in parents:
                node = node[p]
            if data.draw(st.booleans()) and isinstance(node, dict):
                del node[last]
            else:
                node[last] = data.draw(values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
    return doc


def _parses_or_refuses(fn, *args: Any) -> Any:
    try:
        return fn(*args)
    except HarnessError as exc:
        assert str(exc) and "\n" not in str(exc)
        return None


# ---------------------------------------------------------------- machine specs

@FAST
@given(st.text(max_size=300))
def test_spec_text_parses_or_refuses(text):
    _parses_or_refuses(parse_machine_text, text, "spec.toml")
    _parses_or_refuses(parse_machine_text, text, "spec.json")


@FAST
@given(json_values)
def test_spec_json_from_scratch_parses_or_refuses(doc):
    _parses_or_refuses(parse_machine_text, json.dumps(doc), "spec.json")


@FAST
@given(st.data())
def test_spoiled_spec_parses_or_refuses_and_predicts(data):
    doc = _spoil(SPEC, data, numberish | json_values)
    machine = _parses_or_refuses(machine_from_document, doc, "spec.json")
    if machine is not None:
        _predict_or_refuse(machine)


def _toml(value: Any) -> str:
    """A TOML literal for a scalar or list (TOML has no null: an empty string stands in)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, float) and abs(value) == float("inf"):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    return json.dumps("" if value is None else value)


CPU_KEYS = ["model", "sockets", "cores_per_socket", "threads_per_core", "flags", "gflops_fp32"]
MEMORY_KEYS = ["type", "channels", "speed_mts", "capacity_gb", "measured_bandwidth_gbs"]


@FAST
@given(st.dictionaries(st.sampled_from(CPU_KEYS), numberish, max_size=4),
       st.dictionaries(st.sampled_from(MEMORY_KEYS), numberish, max_size=4))
def test_toml_spec_with_odd_values(cpu, memory):
    text = "[cpu]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in cpu.items())
    text += "[memory]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in memory.items())
    machine = _parses_or_refuses(parse_machine_text, text, "spec.toml")
    if machine is not None:
        _predict_or_refuse(machine)


def _predict_or_refuse(machine: Machine) -> None:
    """A machine that parsed must be predictable on (or refused), never crash predict."""
    from harness.workload import load_model
    from harness.workload.quant import parse_quant

    for placement in ("auto", "cpu"):
        sc = Scenario(model=load_model("qwen3-30b-a3b"), quant=parse_quant("q4_k_m"), engine="auto",
                      placement=placement, context=4096, prompt=512)
        _parses_or_refuses(predict, machine, sc)


# ---------------------------------------------------------------- probe reports

@FAST
@given(st.data())
def test_spoiled_probe_parses_or_refuses(data):
    doc = _spoil(FAKE_PROBE, data, numberish | json_values)
    doc["kind"] = "moebench-probe"
    machine = _parses_or_refuses(machine_from_document, doc, "probe.json")
    if machine is not None:
        _predict_or_refuse(machine)


def test_probe_schema_version_matches_the_probes():
    from probes.runner import SCHEMA_VERSION

    assert PROBE_SCHEMA_VERSION == SCHEMA_VERSION


# ---------------------------------------------------------------- result files

@FAST
@given(st.data())
def test_spoiled_result_loads_or_refuses(tmp_path_factory, data):
    doc = _spoil(_result(), data, numberish | json_values)
    path = tmp_path_factory.mktemp("r") / "result.json"
    path.write_text(json.dumps(doc))
    loaded = _parses_or_refuses(load_result, path)
    if loaded is not None:
        assert isinstance(loaded["machine"], dict) and isinstance(loaded["predictions"], list)
    machine = _parses_or_refuses(machine_from_document, doc, "result.json")
    if machine is not None:
        _predict_or_refuse(machine)


@FAST
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_result_bytes_load_or_refuse(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("r") / "result.json"
    path.write_bytes(raw)
    _parses_or_refuses(load_result, path)


@FAST
@given(st.dictionaries(st.text(max_size=15), json_values, max_size=8))
def test_check_schema_on_any_object(doc):
    _parses_or_refuses(check_schema, doc, "x.json")


# ---------------------------------------------------------------- tags

@FAST
@given(st.lists(st.text(max_size=80), max_size=5))
def test_tags_parse_or_refuse(items):
    tags = _parses_or_refuses(parse_tags, items)
    if tags is not None:
        for key, value in tags.items():
            assert key and "=" not in key and "/" not in key and ".." != key
            assert "\n" not in value and "\x00" not in value


@FAST
@given(st.from_regex(r"[A-Za-z0-9_.\-]{1,64}", fullmatch=True), st.text(max_size=100))
def test_tag_round_trip(key, value):
    tags = _parses_or_refuses(parse_tags, [f"{key}={value}"])
    if tags is not None:
        assert tags == {key: value.strip()}


# ---------------------------------------------------------------- file names

@FAST
@given(st.text(max_size=200))
def test_safe_name_is_a_plain_file_name(text):
    name = safe_name(text)
    assert re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", name)
    assert name not in (".", "..") and not name.startswith((".", "-"))


# ---------------------------------------------------------------- model configs

@FAST
@given(st.data())
def test_spoiled_config_parses_or_refuses(tmp_path_factory, data):
    from harness.workload.loading import load_config

    doc = _spoil(CONFIG, data, numberish)
    path = tmp_path_factory.mktemp("m") / "config.json"
    path.write_text(json.dumps(doc))
    _parses_or_refuses(load_config, path)


@FAST
@given(json_values)
def test_config_from_scratch_parses_or_refuses(tmp_path_factory, doc):
    from harness.workload.loading import load_config

    path = tmp_path_factory.mktemp("m") / "config.json"
    path.write_text(json.dumps(doc))
    _parses_or_refuses(load_config, path)


# ---------------------------------------------------------------- whole commands on spoiled results

@pytest.fixture(scope="module")
def full_result() -> dict[str, Any]:
    """A complete result as ``moebench run`` writes it (fake probe), predictions included."""
    from harness.app.run import run_benchmark
    from conftest import FakeReport

    return run_benchmark(models=["qwen3-30b-a3b"], quants=["q4_k_m"],
                         probe_fn=lambda **_: FakeReport(FAKE_PROBE), write_report=False).to_json()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data(), st.sampled_from(["report", "compare", "predict"]))
def test_commands_on_spoiled_result_succeed_or_refuse(tmp_path_factory, full_result, data, command):
    from typer.testing import CliRunner

    from harness.cli import app

    root = tmp_path_factory.mktemp("c")
    (root / "good.json").write_text(json.dumps(full_result))
    (root / "r.json").write_text(json.dumps(_spoil(full_result, data, numberish | json_values)))
    args = {"report": ["report", str(root / "r.json"), "--html", str(root / "x.html"), "--markdown", "-"],
            "compare": ["compare", str(root / "good.json"), str(root / "r.json"), "--store", str(root / "s")],
            "predict": ["predict", "--machine", str(root / "r.json"), "-m", "qwen3-30b-a3b"]}[command]
    res = CliRunner().invoke(app, args)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code in (0, 1, 2)
    if res.exit_code == 2:
        assert len(res.stderr.splitlines()) == 1 and res.stderr.startswith("error: ")


# ---------------------------------------------------------------- what moebench writes, it reads

def test_written_results_load_back(tmp_path, full_result):
    """The load-time checks accept every prediction moebench itself makes: each catalog machine,
    each placement it supports, with price (cost) and batch > 1 — so a new field in a prediction
    that the checks reject fails here, not in a user's `moebench report`."""
    from harness.app.api import predict_on
    from harness.documents.result import save_result
    from harness.documents.machines import machine_ids

    doc = copy.deepcopy(full_result)
    for machine in machine_ids():
        for placement in ("auto", "cpu", "gpu", "hybrid", "multi-node"):
            try:
                doc["predictions"].append(predict_on(machine, model="qwen3-30b-a3b", quant="q4_k_m",
                                                     placement=placement, batch=4))
            except HarnessError:
                continue  # a placement this machine cannot take
    assert len(doc["predictions"]) > 10
    path = save_result(doc, tmp_path / "result.json")
    assert load_result(path)["predictions"] == json.loads(path.read_text())["predictions"]


def test_machine_records_round_trip():
    """``Machine.to_dict()`` of every catalog machine and of a probed one reads back unchanged."""
    from harness.documents.specs import machine_from_probe, machine_from_record
    from harness.documents.machines import load_machine, machine_ids

    machines = [load_machine(m) for m in machine_ids()] + [machine_from_probe(FAKE_PROBE)]
    for machine in machines:
        assert machine_from_record(json.loads(json.dumps(machine.to_dict()))) == machine
