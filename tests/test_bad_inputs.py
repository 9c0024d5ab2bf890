"""Every bad input through the CLI: exit 2, one line ``error: ...`` on stderr, no traceback,
nothing written (issue 8).

Each case names the files it needs (written into a fresh folder that is also the working
directory) and the arguments, with ``{t}`` standing for that folder. After the command the folder
must hold exactly the files the case wrote: no result, no report, no store, no temp file.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from typer.testing import CliRunner

import harness.app.run
from harness.cli import app
from harness.documents.specs import machine_from_probe
from conftest import FAKE_PROBE

runner = CliRunner()
CAT = "epyc9355-rtx5090d"  # a catalog machine: the good --machine when something else is bad

# ---------------------------------------------------------------- good documents, then spoiled

SPEC: dict[str, Any] = {
    "name": "test box", "price": 10000, "currency": "USD",
    "cpu": {"model": "AMD EPYC 9355", "sockets": 2, "cores_per_socket": 32},
    "memory": {"type": "DDR5", "channels": 24, "speed_mts": 6400, "capacity_gb": 1152},
    "gpus": [{"model": "RTX 5090D", "count": 1, "memory_gb": 32, "bandwidth_gbs": 1792,
              "bf16_tflops": 209, "pcie_gen": 5, "pcie_width": 16}],
    "cluster": {"nodes": 1, "interconnect_gbs": 50},
}

GOOD_TOML = """name = "test box"
[cpu]
model = "AMD EPYC 9355"
sockets = 2
cores_per_socket = 32
[memory]
channels = 24
speed_mts = 6400
capacity_gb = 1152
"""

CONFIG: dict[str, Any] = {  # a small Mixtral-style MoE config.json
    "architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_size": 4096,
    "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
    "num_key_value_heads": 8, "num_local_experts": 8, "num_experts_per_tok": 2,
    "vocab_size": 32000, "max_position_embeddings": 32768, "tie_word_embeddings": False,
}


def _result() -> dict[str, Any]:
    machine = machine_from_probe(FAKE_PROBE).to_dict()
    machine["probe"] = copy.deepcopy(FAKE_PROBE)
    return {"schema_version": 1, "run_id": "0123456789abcdef0123456789abcdef",
            "started_at": "2026-11-25T08:00:00+00:00", "finished_at": "2026-11-25T08:01:00+00:00",
            "harness_version": "0.1.0", "tags": {"bios": "A"}, "machine": machine,
            "probes": copy.deepcopy(FAKE_PROBE["probes"]), "predictions": []}


def _with(base: dict[str, Any], path: str, value: Any) -> bytes:
    """``base`` as JSON with the dotted ``path`` set to ``value`` (``DELETE`` removes it)."""
    doc = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = doc
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return json.dumps(doc).encode()


DELETE = object()


def spec(path: str, value: Any) -> bytes:
    return _with(SPEC, path, value)


def config(path: str, value: Any) -> bytes:
    return _with(CONFIG, path, value)


def result(path: str, value: Any) -> bytes:
    return _with(_result(), path, value)


def probe(path: str, value: Any) -> bytes:
    return _with(FAKE_PROBE, path, value)


def _sparse(size: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with path.open("wb") as fh:
            fh.truncate(size)  # a hole: size on paper, nothing on disk
    return make


def _dir(path: Path) -> None:
    path.mkdir()


def _dir_tree(path: Path) -> None:
    path.mkdir(parents=True)


def _file_in_dir(name: str, data: bytes) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        (path / name).parent.mkdir(parents=True)
        (path / name).write_bytes(data)
    return make


HUGE = 80 * 1024 * 1024  # beyond every input limit (specs 4 MiB, results 64 MiB)
BINARY = bytes(range(256)) * 4
DEEP_JSON = b"{" + b'"a":{' * 100_000 + b"}" * 100_001
DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000

# ---------------------------------------------------------------- the cases

# (id, files {name: bytes | maker}, args with {t} for the folder, extra env)
Case = tuple[str, dict[str, Any], list[str], dict[str, str]]
CASES: list[Case] = []


def case(cid: str, args: list[str], files: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> None:
    CASES.append((cid, files or {}, args, env or {}))


def machine_case(cid: str, data: Any, name: str = "m.json") -> None:
    """A bad --machine file, through predict."""
    case(f"machine-{cid}", ["predict", "--machine", "{t}/" + name, "--json"], {name: data})


# --- machine specs: unknown keys
machine_case("unknown-top-key", spec("colour", "red"))
machine_case("unknown-cpu-key", spec("cpu.frequency_ghz", 3.5))
machine_case("unknown-memory-key", spec("memory.ranks", 2))
machine_case("unknown-gpu-key", spec("gpus.0.tensor_cores", 680))
machine_case("unknown-cluster-key", spec("cluster.switch", "IB"))
machine_case("unknown-key-escape-sequence", spec("cpu.\x1b[2Jboom", 1))
machine_case("json-5000-digit-int", b'{"cpu": {"sockets": ' + b"7" * 5000 + b"}}")
machine_case("unknown-section-toml", (GOOD_TOML + "[disk]\nsize_tb = 4\n").encode(), "m.toml")
machine_case("typo-key-toml", GOOD_TOML.replace("speed_mts", "speed_mhz").encode(), "m.toml")
# --- wrong types
machine_case("sockets-string", spec("cpu.sockets", "two"))
machine_case("sockets-bool", spec("cpu.sockets", True))
machine_case("channels-float", spec("memory.channels", 1.5))
machine_case("capacity-string", spec("memory.capacity_gb", "1 TB"))
machine_case("name-number", spec("name", 5))
machine_case("price-list", spec("price", [1, 2]))
machine_case("cpu-not-table", spec("cpu", 5))
machine_case("memory-list", spec("memory", [24, 6400]))
machine_case("gpus-string", spec("gpus", "RTX 5090"))
machine_case("gpus-list-of-numbers", spec("gpus", [1, 2]))
machine_case("cluster-string", spec("cluster", "4 nodes"))
machine_case("flags-string", spec("cpu.flags", "avx512f"))
machine_case("flags-list-of-tables", spec("cpu.flags", [{"a": 1}]))
machine_case("unified-memory-string", spec("gpus.0.unified_memory", "yes"))
machine_case("toml-sockets-string", GOOD_TOML.replace("sockets = 2", 'sockets = "2"').encode(), "m.toml")
machine_case("toml-date-value", GOOD_TOML.replace("capacity_gb = 1152", "capacity_gb = 2024-01-01").encode(), "m.toml")
# --- negative, zero, absurd
machine_case("channels-negative", spec("memory.channels", -4))
machine_case("channels-zero", spec("memory.channels", 0))
machine_case("speed-zero", spec("memory.speed_mts", 0))
machine_case("speed-absurd", spec("memory.speed_mts", 10**9))
machine_case("capacity-zero", spec("memory.capacity_gb", 0))
machine_case("capacity-negative", spec("memory.capacity_gb", -1152))
machine_case("sockets-zero", spec("cpu.sockets", 0))
machine_case("sockets-huge-int", spec("cpu.sockets", 10**30))
machine_case("capacity-int-beyond-float", spec("memory.capacity_gb", 10**400))
machine_case("sockets-int-beyond-float", spec("cpu.sockets", 10**400))
machine_case("cores-absurd", spec("cpu.cores_per_socket", 10**6))
machine_case("price-negative", spec("price", -1))
machine_case("gpu-count-zero", spec("gpus.0.count", 0))
machine_case("gpu-memory-negative", spec("gpus.0.memory_gb", -32))
machine_case("gpu-bandwidth-zero", spec("gpus.0.bandwidth_gbs", 0))
machine_case("gpu-pcie-gen-9", spec("gpus.0.pcie_gen", 9))
machine_case("nodes-zero", spec("cluster.nodes", 0))
machine_case("interconnect-negative", spec("cluster.interconnect_gbs", -50))
machine_case("json-infinity", b'{"cpu": {"sockets": 1}, "memory": {"channels": 8, "speed_mts": 4800, "capacity_gb": 1e999}}')
machine_case("json-nan", b'{"cpu": {"sockets": 1}, "memory": {"channels": 8, "speed_mts": NaN}}')
machine_case("toml-nan", GOOD_TOML.replace("capacity_gb = 1152", "capacity_gb = nan").encode(), "m.toml")
machine_case("name-control-chars", spec("name", "box\u0000\u001b[31m"))
machine_case("toml-inf", GOOD_TOML.replace("speed_mts = 6400", "speed_mts = inf").encode(), "m.toml")
# --- missing or contradictory
machine_case("gpu-no-model", spec("gpus.0.model", DELETE))
# a GPU the vendor sheet does not know, without its bandwidth (a known one is filled from the sheet)
machine_case("gpu-no-bandwidth", _with(json.loads(spec("gpus.0.bandwidth_gbs", DELETE)), "gpus.0.model",
                                       "Acme NPU 9000"))
machine_case("memory-no-bandwidth", _with({**SPEC, "gpus": []}, "memory", {"capacity_gb": 512}))
machine_case("only-name", b'{"name": "box"}')
machine_case("measured-above-peak", spec("memory.measured_bandwidth_gbs", 5000))
machine_case("gpu-measured-above-rated", spec("gpus.0.measured_bandwidth_gbs", 9000))
machine_case("empty-object", b"{}")
machine_case("empty-toml-tables", b"[cpu]\n[memory]\n", "m.toml")
# --- not a spec at all
machine_case("empty-file", b"")
machine_case("whitespace-only", b" \n\t\n")
machine_case("binary", BINARY, "m.bin")
machine_case("latin1", "name = \"Müller\"\n".encode("latin-1"), "m.toml")
machine_case("utf16", GOOD_TOML.encode("utf-16"), "m.toml")
machine_case("garbage-text", b"this is = = not toml\n", "m.toml")
machine_case("truncated-json", json.dumps(SPEC).encode()[:60])
machine_case("json-array", b"[1, 2, 3]")
machine_case("json-string", b'"epyc"')
machine_case("json-number", b"42")
machine_case("deep-json", DEEP_JSON)
machine_case("deep-array", DEEP_ARRAY)
machine_case("huge-file", _sparse(HUGE))
machine_case("directory", _dir, "specs")
machine_case("fifo", lambda path: os.mkfifo(path), "spec.toml")  # opening it would block for ever
case("machine-dev-zero", ["predict", "--machine", "/dev/zero"])  # endless; the reader stops at its limit anyway
case("machine-missing-file", ["predict", "--machine", "{t}/nope.toml"])
case("machine-unknown-id", ["predict", "--machine", "epyc-9999"])
case("machine-empty-arg", ["predict", "--machine", ""])
# --- probe JSON (moebench probe --json) spoiled
machine_case("probe-system-string", probe("system", "x"))
machine_case("probe-sockets-string", probe("system.sockets", "two"))
machine_case("probe-sockets-zero", probe("system.sockets", 0))
machine_case("probe-memory-string", probe("system.memory_total_bytes", "1 TB"))
machine_case("probe-best-string", probe("probes.stream_triad.best", "fast"))
machine_case("probe-best-negative", probe("probes.stream_triad.best", -980))
machine_case("probe-gpus-string", probe("gpu.gpus", "RTX"))
machine_case("probe-gpu-entry-number", probe("gpu.gpus", [5]))
machine_case("probe-probes-list", probe("probes", [1]))
machine_case("probe-notes-number", probe("notes", 5))
machine_case("probe-flags-number", probe("system.cpu_flags", 5))
machine_case("probe-future-schema", probe("schema_version", 99))
# --- result.json as --machine
machine_case("result-future-schema", result("schema_version", 99), "result.json")
machine_case("result-schema-string", result("schema_version", "1"), "result.json")
machine_case("result-no-machine", result("machine", DELETE), "result.json")
machine_case("result-machine-string", result("machine", "box"), "result.json")
machine_case("result-machine-empty", result("machine", {}), "result.json")
machine_case("result-machine-gpus-string", _with({**_result(), "machine": {
    **machine_from_probe(FAKE_PROBE).to_dict(), "gpus": "RTX"}}, "tags", {}), "result.json")
machine_case("result-machine-sockets-string", _with({**_result(), "machine": {
    **machine_from_probe(FAKE_PROBE).to_dict(), "sockets": "two"}}, "tags", {}), "result.json")
machine_case("result-probe-system-list", result("machine.probe.system", [1]), "result.json")

# --- model configs (--model path/to/config.json) through predict, run and models
def model_case(cid: str, data: Any, name: str = "config.json", commands: tuple[str, ...] = ("predict",)) -> None:
    for cmd in commands:
        args = {"predict": ["predict", "--machine", CAT, "--json", "--model", "{t}/" + name],
                "run": ["run", "--no-store", "--out", "{t}/out", "--model", "{t}/" + name],
                "models": ["models", "--json", "--model", "{t}/" + name]}[cmd]
        case(f"model-{cid}-{cmd}", args, {name: data})


ALL = ("predict", "run", "models")
model_case("truncated", json.dumps(CONFIG).encode()[:70], commands=ALL)
model_case("empty", b"", commands=ALL)
model_case("not-json", b"hidden_size = 4096\n")
model_case("json-array", b"[]")
model_case("binary", BINARY)
model_case("latin1", '{"model_type": "m\xfcller"}'.encode("latin-1"))
model_case("deep-json", DEEP_JSON)
model_case("huge", _sparse(HUGE))
model_case("empty-object", b"{}", commands=ALL)
model_case("no-hidden-size", config("hidden_size", DELETE))
model_case("no-layers", config("num_hidden_layers", DELETE))
model_case("no-experts-per-tok", config("num_experts_per_tok", DELETE))
model_case("k-above-experts", config("num_experts_per_tok", 16), commands=ALL)
model_case("zero-experts", config("num_local_experts", 0))
model_case("negative-layers", config("num_hidden_layers", -32))
model_case("zero-hidden", config("hidden_size", 0))
model_case("hidden-string", config("hidden_size", "4096"))
model_case("hidden-float", config("hidden_size", 4096.5))
model_case("hidden-bool", config("hidden_size", True))
model_case("hidden-null", config("hidden_size", None))
model_case("hidden-absurd", config("hidden_size", 10**40))
model_case("heads-not-dividing", config("num_attention_heads", 3))
model_case("kv-heads-above-heads", config("num_key_value_heads", 64))
model_case("kv-heads-zero", config("num_key_value_heads", 0))
model_case("vocab-negative", config("vocab_size", -1))
model_case("model-type-list", config("model_type", ["mixtral"]))
model_case("kv-heads-nan", config("num_key_value_heads", float("nan")))
model_case("kv-heads-object", config("num_key_value_heads", {}))
model_case("unknown-model-type", _with({"model_type": "nonesuch", "hidden_size": 1}, "vocab_size", 5))
model_case("gguf-bad-header", b"GGUF" + b"\xff" * 60, "model.gguf")
model_case("gguf-truncated", b"GGUF\x03\x00\x00\x00", "model.gguf")
model_case("safetensors-index-bad", b'{"weight_map": 5}', "model.safetensors.index.json")
model_case("dir-without-config", _dir, "emptymodel")
case("model-empty-arg-with-config-in-cwd", ["predict", "--machine", CAT, "--model", ""],
     {"config.json": json.dumps(CONFIG).encode()})
case("model-missing-file", ["predict", "--machine", CAT, "--model", "{t}/missing/config.json"])

# --- result files: report, compare, predict --machine
BAD_RESULTS: dict[str, Any] = {
    "not-json": b"not json at all",
    "empty": b"",
    "truncated": json.dumps(_result()).encode()[:100],
    "json-array": b"[]",
    "binary": BINARY,
    "future-schema": result("schema_version", 99),
    "schema-missing": result("schema_version", DELETE),
    "schema-float": result("schema_version", 1.5),
    "schema-zero": result("schema_version", 0),
    "missing-run-id": result("run_id", DELETE),
    "missing-machine": result("machine", DELETE),
    "missing-probes": result("probes", DELETE),
    "missing-predictions": result("predictions", DELETE),
    "run-id-number": result("run_id", 5),
    "run-id-path": result("run_id", "../../etc/passwd"),
    "run-id-dots": result("run_id", ".."),
    "tags-list": result("tags", ["bios=A"]),
    "machine-list": result("machine", [1]),
    "probes-list": result("probes", [1]),
    "predictions-object": result("predictions", {"a": 1}),
    "predictions-numbers": result("predictions", [1, 2]),
    "deep-json": DEEP_JSON,
    "huge": _sparse(HUGE),
    "5000-digit-int": b'{"schema_version": ' + b"1" * 5000 + b"}",
    "machine-gpus-string": result("machine.gpus", "RTX"),
    "probe-samples-string": result("probes.stream_triad.samples", "fast"),
    "prediction-inputs-list": result("predictions", [{"inputs": [1]}]),
    "prediction-decode-string": result("predictions", [{"inputs": {"model": "m"}, "decode_tokens_per_s": "x"}]),
    "prediction-prefill-depth-string": result("predictions", [{"inputs": {"model": "m", "prefill_depth": "5"}}]),
    "prediction-context-beyond-float": result("predictions", [{"inputs": {"model": "m", "context": 10**400}}]),
    "prediction-batch-zero": result("predictions", [{"inputs": {"model": "m", "batch": 0}}]),
    "prediction-upgrade-int-beyond-float": result("predictions", [{"inputs": {"model": "m"}, "upgrades": [
        {"change": "x", "tokens_per_s": 10**400}]}]),
    "prediction-memory-int-beyond-float": result("predictions", [{"inputs": {"model": "m"}, "memory": {
        "host": {"routed_experts": 10**400}}}]),
}
for rid, data in BAD_RESULTS.items():
    case(f"report-{rid}", ["report", "{t}/r.json"], {"r.json": data})
    case(f"compare-{rid}", ["compare", "{t}/good.json", "{t}/r.json"],
         {"good.json": json.dumps(_result()).encode(), "r.json": data})
for rid in ("not-json", "empty", "binary", "schema-zero", "run-id-path", "machine-list", "deep-json", "huge"):
    machine_case(f"result-file-{rid}", BAD_RESULTS[rid], "r.json")
case("report-dev-zero", ["report", "/dev/zero"])
case("report-fifo", ["report", "{t}/r.json"], {"r.json": lambda path: os.mkfifo(path)})
case("report-directory-without-result", ["report", "{t}/run"], {"run": _dir})
case("report-missing-file", ["report", "{t}/nope.json"])
case("report-run-dir-result-is-dir", ["report", "{t}/run"], {"run": _file_in_dir("result.json/x", b"")})
case("compare-missing-file", ["compare", "{t}/nope.json", "{t}/nope2.json"])
case("report-html-is-directory", ["report", "{t}/good.json", "--html", "{t}/adir"],
     {"good.json": json.dumps(_result()).encode(), "adir": _dir})
case("report-logo-binary", ["report", "{t}/good.json", "--logo", "{t}/logo.png", "--html", "{t}/x.html"],
     {"good.json": json.dumps(_result()).encode(), "logo.png": BINARY})
case("import-missing-file", ["import", "{t}/nope.json"])
GOOD = {"good.json": json.dumps(_result()).encode()}
case("report-vendor-too-long", ["report", "{t}/good.json", "--vendor", "v" * 500], GOOD)
case("report-logo-missing", ["report", "{t}/good.json", "--logo", "{t}/nope.png"], GOOD)
case("report-logo-huge", ["report", "{t}/good.json", "--logo", "{t}/logo.png"], {**GOOD, "logo.png": _sparse(HUGE)})
case("report-markdown-is-dir", ["report", "{t}/good.json", "--markdown", "{t}/adir"], {**GOOD, "adir": _dir})
case("report-csv-under-file", ["report", "{t}/good.json", "--csv", "{t}/afile/x.csv"], {**GOOD, "afile": b"x"})
case("report-second-run-bad", ["report", "{t}/good.json", "{t}/r.json"], {**GOOD, "r.json": b"[]"})
case("predict-machine-result-dir", ["predict", "--machine", "{t}/run"], {"run": _dir})

# --- stores
BAD_STORES = {
    "bad-scheme": "foo://bar/baz",
    "garbage-url": "://",
    "postgres-unreachable": "postgresql://moebench@127.0.0.1:1/x",
    "mysql-no-driver": "mysql://u@127.0.0.1:1/x",
    "sqlite-dir": "sqlite:///{t}/adir",
    "sqlite-under-file": "{t}/afile/sub/store.sqlite",
    "sqlite-not-a-db": "{t}/garbage.sqlite",
}
STORE_FILES = {"adir": _dir, "afile": b"x", "garbage.sqlite": b"this is not a database" * 100}
for sid, url in BAD_STORES.items():
    case(f"store-{sid}-history", ["history", "--store", url], STORE_FILES)
    case(f"store-{sid}-run", ["run", "--out", "{t}/out", "--store", url], STORE_FILES)
case("store-bad-env", ["history"], env={"MOEBENCH_STORE": "foo://bar"})
case("store-report-run-id", ["report", "abcd1234", "--store", "foo://bar"])
case("store-compare-run-ids", ["compare", "abcd1234", "dcba4321", "--store", "foo://bar"])
case("store-export-unknown-run", ["export", "abcd1234", "--out", "{t}/x.json", "--store", "{t}/s.sqlite"])

# --- options
for opt, value in [("--model", "no-such-model"), ("--quant", "q9_z"), ("--engine", "turbo"),
                   ("--placement", "warp"), ("--context", "-5"), ("--context", "abc"),
                   ("--context", str(10**30)), ("--prompt", "-1"), ("--batch", "0"), ("--batch", "-3"),
                   ("--batch", str(10**12)), ("--kv-bytes", "0"), ("--kv-bytes", "nan"),
                   ("--kv-bytes", "-2"), ("--quant", "0bpw"), ("--quant", "-3bpw"),
                   ("--quant", "nanbpw"), ("--quant", "1e400bpw"), ("--quant", "99bpw"),
                   ("--quant", ""), ("--quant", "experts=q4_k_m,attention=bogus"),
                   ("--quant", "experts=q4_k_m,wings=q8_0"), ("--quant", "experts="),
                   ("--engine", ""), ("--placement", ""), ("--model", "")]:
    case(f"predict-option{opt}={value}", ["predict", "--machine", CAT, opt, value, "--json"])
for opt, value in [("--model", "no-such-model"), ("--quant", "q9_z"), ("--engine", "turbo"),
                   ("--model", ""), ("--quant", ""), ("--tag", "novalue"), ("--tag", "=v"), ("--tag", "a/b=1"), ("--tag", "k" * 65 + "=1"),
                   ("--tag", "k=" + "v" * 300), ("--tag", "../x=1"), ("--tag", "k=a\nb"), ("--tag", "k=\x00"),
                   ("--tag", " "), ("--tag", "..=1"), ("--tag", "k=a\u202eb"), ("--tag", "k=\x1b[31m"),
                   ("--quant", "0bpw")]:
    case(f"run-option{opt}={value!r}", ["run", "--no-store", "--out", "{t}/out", opt, value])
case("run-out-is-file", ["run", "--no-store", "--out", "{t}/afile"], {"afile": b"keep me"})
case("run-out-under-file", ["run", "--no-store", "--out", "{t}/afile/sub"], {"afile": b"keep me"})
case("run-out-report-is-dir", ["run", "--no-store", "--out", "{t}/out"], {"out/report.html": _dir_tree})
case("run-out-result-is-dir", ["run", "--no-store", "--out", "{t}/out"], {"out/result.json": _dir_tree})
case("run-out-empty", ["run", "--no-store", "--out", ""])
for tag in ("novalue", "=v", "a b=1"):
    case(f"history-tag={tag}", ["history", "--tag", tag])
case("history-html-is-dir", ["history", "--html", "{t}/adir"], {"adir": _dir})
case("compare-threshold-negative", ["compare", "{t}/g.json", "{t}/g.json", "--threshold", "-1"],
     {"g.json": json.dumps(_result()).encode()})
case("compare-alpha-2", ["compare", "{t}/g.json", "{t}/g.json", "--alpha", "2"],
     {"g.json": json.dumps(_result()).encode()})
case("models-unknown", ["models", "--model", "no-such-model"])
case("models-bad-quant", ["models", "--quant", "q9_z"])
case("models-kv-bytes-zero", ["models", "--kv-bytes", "0"])
case("unknown-command", ["frobnicate"])
case("unknown-option", ["predict", "--machine", CAT, "--frobnicate"])
case("missing-required-option", ["predict"])
case("option-missing-value", ["predict", "--machine"])
case("check-bad-baseline", ["check", "--baseline", "{t}/nope.json", "--out", "{t}/out"])
case("check-bad-store", ["check", "--baseline", "{t}/good.json", "--out", "{t}/out", "--store", "foo://bar"], GOOD)
case("check-tag-without-equals", ["check", "--baseline", "{t}/good.json", "--tag", "novalue"], GOOD)
case("check-threshold-negative", ["check", "--baseline", "{t}/good.json", "--threshold", "-5"], GOOD)
case("export-out-is-dir", ["export", "abcd1234", "--out", "{t}/adir"], {"adir": _dir})
case("history-threshold-nan", ["history", "--threshold", "nan"])
case("history-threshold-negative", ["history", "--threshold", "-1"])
case("predict-quant-class-twice", ["predict", "--machine", CAT, "--quant", "experts=q4_k_m,experts=q8_0"])
case("predict-backend-unknown", ["predict", "--machine", CAT, "--backend", "opencl"])
case("models-kv-bytes-negative", ["models", "--model", "deepseek-v3", "--kv-bytes", "-1"])
case("history-metric-empty", ["history", "--metric", ""])

# Case id → the bug outside this suite's files that makes it fail (an xfail naming the fix). All the
# ones found so far are fixed; new ones go here until their owner fixes them.
KNOWN_ELSEWHERE: dict[str, str] = {}


# ---------------------------------------------------------------- the check

def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _write(root: Path, files: dict[str, Any]) -> None:
    for name, data in files.items():
        path = root / name
        if callable(data):
            data(path)
        else:
            path.write_bytes(data)


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A fresh folder as cwd, the store inside it (so a store file would show), no hardware; the
    list it returns with the folder records every probe, which a bad input must never reach."""
    probed: list[bool] = []

    def fake_probe(quick: bool = False, progress: Any = None, **_: Any) -> Any:
        probed.append(True)
        from conftest import FakeReport

        return FakeReport(FAKE_PROBE)

    monkeypatch.setattr(harness.app.run, "default_probe", fake_probe)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOEBENCH_STORE", str(tmp_path / "store.sqlite"))
    return tmp_path, probed


def assert_one_line_error(exit_code: int, stdout: str, stderr: str) -> None:
    shown = f"exit {exit_code}\nstdout: {stdout!r}\nstderr: {stderr[-3000:]}"
    assert exit_code == 2, shown
    assert "Traceback" not in stdout + stderr, shown
    assert stdout == "", shown
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and len(lines[0]) > 12, shown
    assert lines[0].isprintable(), shown  # no escape sequences or bidi overrides reach the terminal


def _marks(cid: str) -> list[Any]:
    reason = KNOWN_ELSEWHERE.get(cid)
    return [pytest.mark.xfail(reason=reason, strict=False)] if reason else []


@pytest.mark.parametrize("files, args, env", [pytest.param(f, a, e, id=c, marks=_marks(c))
                                              for c, f, a, e in CASES])
def test_bad_input(work, monkeypatch, files, args, env):
    work, probed = work
    _write(work, files)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    before = _snapshot(work)
    argv = [a.replace("{t}", str(work)) for a in args]
    res = runner.invoke(app, argv)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert_one_line_error(res.exit_code, res.stdout, res.stderr)
    assert _snapshot(work) == before, "a file was written"
    assert not probed, "refused only after a minute of probing: check inputs first"


def test_case_count():
    """The note in the issue quotes this number; keep the enumeration honest."""
    ids = [c for c, *_ in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert len(ids) >= 200


# ---------------------------------------------------------------- the installed command

def _moebench(args: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The installed console script (its own interpreter start-up, real stdio, real exit code)."""
    env = {**os.environ, "MOEBENCH_STORE": str(cwd / "store.sqlite")}
    script = shutil.which("moebench")
    exe = [script] if script else [sys.executable, "-c", "from harness.cli import main; main()"]
    return subprocess.run(exe + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("args, files", [
    (["predict", "--machine", "m.toml"], {"m.toml": GOOD_TOML.replace("channels = 24", "channels = -24").encode()}),
    (["report", "r.json"], {"r.json": result("schema_version", 99)}),
    (["compare", "r.json", "r.json"], {"r.json": b"{not json"}),
], ids=["spec-negative", "report-future-schema", "compare-not-json"])
def test_installed_command(tmp_path, args, files):
    _write(tmp_path, files)
    before = _snapshot(tmp_path)
    proc = _moebench(args, tmp_path)
    assert_one_line_error(proc.returncode, proc.stdout, proc.stderr)
    assert _snapshot(tmp_path) == before


def test_model_fifo_is_refused_not_waited_on(tmp_path):
    """A FIFO blocks whoever opens it: in a subprocess with a timeout, so a regression cannot hang."""
    os.mkfifo(tmp_path / "config.json")
    proc = _moebench(["predict", "--machine", CAT, "--model", "config.json"], tmp_path, timeout=3)
    assert_one_line_error(proc.returncode, proc.stdout, proc.stderr)
