"""Machine specs: TOML/JSON spec files, ``moebench probe --json`` outputs, ``result.json`` files
and the built-in machine catalog, all turned into one ``Machine``.

Validation happens here, at the edge: unknown keys, wrong types and absurd values get one line
naming the key and the accepted range.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.machine import GpuSpec, Machine

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAX_SPEC_BYTES = 4 * 1024 * 1024

# key: (type, min, max) — ranges wide enough for any real machine, narrow enough to catch typos.
_TOP = {"name": (str, None, None), "price": (float, 0.0, 1e9), "currency": (str, None, None),
        "vendor": (str, None, None), "notes": (str, None, None), "source": (str, None, None)}
_CPU = {"model": (str, None, None), "sockets": (int, 1, 16), "cores_per_socket": (int, 1, 1024),
        "threads_per_core": (int, 1, 8), "flags": (list, None, None), "gflops_fp32": (float, 0.1, 1e7)}
_MEMORY = {"type": (str, None, None), "channels": (int, 1, 256), "speed_mts": (int, 100, 20000),
           "capacity_gb": (float, 0.5, 1e6), "measured_bandwidth_gbs": (float, 0.1, 1e5),
           "theoretical_bandwidth_gbs": (float, 0.1, 1e5)}
_GPU = {"model": (str, None, None), "count": (int, 1, 1024), "memory_gb": (float, 0.0, 1e5),
        "bandwidth_gbs": (float, 0.1, 1e5), "bf16_tflops": (float, 0.01, 1e6), "pcie_gen": (int, 1, 7),
        "pcie_width": (int, 1, 32), "unified_memory": (bool, None, None),
        "measured_bandwidth_gbs": (float, 0.1, 1e5), "interconnect_gbs": (float, 0.01, 1e5)}
_CLUSTER = {"nodes": (int, 1, 100000), "interconnect_gbs": (float, 0.01, 1e5)}


def _check(table: dict[str, Any], schema: dict[str, tuple], where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise HarnessError(f"{where} must be a table of keys — see the machine spec format in the README")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key not in schema:
            raise HarnessError(f"unknown key {where}.{key} — accepted keys: {', '.join(schema)}")
        typ, lo, hi = schema[key]
        out[key] = _coerce(value, typ, lo, hi, f"{where}.{key}")
    return out


def _coerce(value: Any, typ: type, lo: Any, hi: Any, name: str) -> Any:
    if typ is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = float(value)
    ok = isinstance(value, typ) and not (typ is int and isinstance(value, bool))
    if not ok:
        raise HarnessError(f"{name} must be {typ.__name__}, got {type(value).__name__} {value!r:.40}")
    if lo is not None and not (lo <= value <= hi):
        raise HarnessError(f"{name} = {value} is out of range — accepted {lo} to {hi}")
    return value


def parse_spec(data: dict[str, Any], source: str) -> Machine:
    """A ``Machine`` from a spec mapping (TOML or JSON, same keys; format in DESIGN.md)."""
    if not isinstance(data, dict) or not data:
        raise HarnessError(f"{source}: empty machine spec — give at least [cpu] and [memory]")
    sections = {"cpu", "memory", "gpus", "cluster"}
    top = _check({k: v for k, v in data.items() if k not in sections}, _TOP, "spec")
    cpu = _check(data.get("cpu", {}), _CPU, "cpu")
    mem = _check(data.get("memory", {}), _MEMORY, "memory")
    gpus_raw = data.get("gpus", [])
    if isinstance(gpus_raw, dict):
        gpus_raw = [gpus_raw]
    if not isinstance(gpus_raw, list):
        raise HarnessError("gpus must be a list of [[gpus]] tables")
    gpus = tuple(_gpu(_check(g, _GPU, f"gpus[{i}]"), i) for i, g in enumerate(gpus_raw))
    cluster = _check(data.get("cluster", {}), _CLUSTER, "cluster")
    if not mem.get("measured_bandwidth_gbs") and not mem.get("theoretical_bandwidth_gbs") and not (
            mem.get("channels") and mem.get("speed_mts")) and not any(g.unified_memory is False for g in gpus):
        raise HarnessError(f"{source}: [memory] needs channels and speed_mts, or measured_bandwidth_gbs "
                           "— without them host bandwidth is unknown")
    return Machine(
        name=top.get("name") or Path(source).stem, source=f"spec:{source}",
        cpu_model=cpu.get("model"), sockets=cpu.get("sockets", 1), cores_per_socket=cpu.get("cores_per_socket"),
        threads=(cpu["cores_per_socket"] * cpu.get("sockets", 1) * cpu.get("threads_per_core", 1)
                 if cpu.get("cores_per_socket") else None),
        numa_nodes=cpu.get("sockets", 1), memory_type=mem.get("type"), channels=mem.get("channels"),
        speed_mts=mem.get("speed_mts"), capacity_gb=mem.get("capacity_gb"),
        theoretical_bandwidth_gbs=mem.get("theoretical_bandwidth_gbs"),
        measured_bandwidth_gbs=mem.get("measured_bandwidth_gbs"),
        cpu_gflops_fp32=cpu.get("gflops_fp32"), cpu_flags=tuple(str(f) for f in cpu.get("flags", ())),
        gpus=gpus, price=top.get("price"), currency=top.get("currency"),
        nodes=cluster.get("nodes", 1), interconnect_gbs=cluster.get("interconnect_gbs"),
        notes=tuple(x for x in [top.get("notes"), top.get("source")] if x),
    )


def _gpu(d: dict[str, Any], i: int) -> GpuSpec:
    if "model" not in d:
        raise HarnessError(f"gpus[{i}] needs a model name")
    if not d.get("unified_memory") and not d.get("bandwidth_gbs") and not d.get("measured_bandwidth_gbs"):
        raise HarnessError(f"gpus[{i}] ({d['model']}) needs bandwidth_gbs (the vendor's memory bandwidth)")
    return GpuSpec(**d)


def machine_from_probe(report: dict[str, Any], name: str | None = None) -> Machine:
    """A ``Machine`` from a ``moebench probe --json`` report (the probes' contract dict)."""
    sysinfo = report.get("system") or {}
    probes = report.get("probes") or {}
    gpu_rep = report.get("gpu") or {}

    def best(key: str) -> float | None:
        entry = probes.get(key)
        return float(entry["best"]) if isinstance(entry, dict) and entry.get("best") else None

    sockets = int(sysinfo.get("sockets") or 1)
    total = sysinfo.get("memory_total_bytes")
    avail = sysinfo.get("memory_available_bytes")
    return Machine(
        name=name or sysinfo.get("product_name") or sysinfo.get("hostname") or "this machine",
        source="probe", cpu_model=sysinfo.get("cpu_model"), sockets=sockets,
        cores_per_socket=sysinfo.get("cores_per_socket") or (
            (sysinfo.get("cores") or 0) // sockets or None),
        threads=sysinfo.get("threads"), numa_nodes=int(sysinfo.get("numa_nodes") or 1),
        memory_type=sysinfo.get("memory_type"), channels=sysinfo.get("memory_channels"),
        speed_mts=sysinfo.get("memory_speed_mts"),
        capacity_gb=total / 1e9 if total else None, available_gb=avail / 1e9 if avail else None,
        theoretical_bandwidth_gbs=sysinfo.get("theoretical_bandwidth_gbs"),
        measured_bandwidth_gbs=best("stream_triad"),
        measured_bandwidth_per_node_gbs=best("stream_triad@node0"),
        moe_replay_gbs=best("moe_replay"), cpu_gflops_fp32=best("gemm_fp32"),
        cpu_flags=tuple(sysinfo.get("cpu_flags") or ()),
        gpus=tuple(_gpu_from_probe(g) for g in gpu_rep.get("gpus") or ()),
        notes=tuple(report.get("notes") or ()),
    )


def _gpu_from_probe(g: dict[str, Any]) -> GpuSpec:
    return GpuSpec(
        model=g.get("name") or "NVIDIA GPU", count=1,
        memory_gb=(g.get("memory_total_bytes") or 0) / 1e9,
        bandwidth_gbs=g.get("theoretical_bandwidth_gbs"), bf16_tflops=g.get("bf16_tflops"),
        pcie_gen=g.get("pcie_gen_max"), pcie_width=g.get("pcie_width_max"),
        measured_bandwidth_gbs=g.get("measured_bandwidth_gbs"),
    )


def read_bounded(path: Path, limit: int = MAX_SPEC_BYTES) -> str:
    """Text of a small input file, refusing directories, huge files and binary content."""
    if not path.exists():
        raise HarnessError(f"{path}: no such file — check the path")
    if path.is_dir():
        raise HarnessError(f"{path} is a directory — give a file")
    size = path.stat().st_size
    if size > limit:
        raise HarnessError(f"{path} is {size} bytes, more than the {limit} a spec may have — is it the right file?")
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise HarnessError(f"{path} is a binary file — give a TOML or JSON text file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HarnessError(f"{path} is not UTF-8 text — save it as UTF-8") from None


def parse_machine_text(text: str, source: str) -> Machine:
    """Any supported machine document (spec TOML/JSON, probe JSON, result.json) from its text."""
    stripped = text.lstrip()
    if not stripped:
        raise HarnessError(f"{source} is empty — give a machine spec, probe JSON or result.json")
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HarnessError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        return machine_from_document(data, source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HarnessError(f"{source}: not valid TOML ({exc})") from None
    return parse_spec(data, source)


def machine_from_document(data: Any, source: str) -> Machine:
    """Tell a probe report, a result.json and a plain spec apart by their keys."""
    if not isinstance(data, dict):
        raise HarnessError(f"{source}: expected a JSON object")
    if data.get("kind") == "moebench-probe":
        return machine_from_probe(data)
    if "run_id" in data and "machine" in data:
        from harness.results import check_schema

        check_schema(data, source)
        m = data["machine"]
        if isinstance(m, dict) and isinstance(m.get("probe"), dict):
            return machine_from_probe(m["probe"], name=m.get("name"))
        from harness.machine import machine_from_dict

        return machine_from_dict(m)
    return parse_spec(data, source)


def catalog_dir() -> Any:
    return resources.files("harness") / "data" / "machines"


def machine_ids() -> list[str]:
    return sorted(p.name[:-5] for p in catalog_dir().iterdir() if p.name.endswith(".toml"))


def load_machine(arg: str) -> Machine:
    """A machine from a catalog id, a spec file, a probe JSON or a result.json."""
    path = Path(arg)
    if not path.exists() and arg in machine_ids():
        text = (catalog_dir() / f"{arg}.toml").read_text(encoding="utf-8")
        return parse_machine_text(text, arg)
    if not path.exists():
        raise HarnessError(f"machine {arg!r} is neither a file nor a catalog id — "
                           f"use a spec path or one of: {', '.join(machine_ids())}")
    return parse_machine_text(read_bounded(path), str(path))
