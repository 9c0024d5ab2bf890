"""Machine specs: TOML/JSON spec files, ``moebench probe --json`` outputs, ``result.json`` files
and the built-in machine catalog, all turned into one ``Machine``.

Validation happens here, at the edge: unknown keys, wrong types and absurd values get one line
naming the key and the accepted range.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.fsutil import read_bounded_bytes
from harness.hardware.machine import GPU_GB, GpuSpec, Machine
from harness.hardware.gpu_sheet import sheet_for
from harness.hardware.cpu_catalog import rating_for
from harness.hardware.machine import machine_from_dict

MAX_SPEC_BYTES = 4 * 1024 * 1024
PROBE_SCHEMA_VERSION = 1  # probes/runner.py SCHEMA_VERSION (a test keeps the two equal)

# key: (type, min, max) — ranges wide enough for any real machine, narrow enough to catch typos.
_TOP = {"name": (str, None, None), "price": (float, 0.0, 1e9), "currency": (str, None, None),
        "vendor": (str, None, None), "notes": (str, None, None), "source": (str, None, None),
        "price_date": (str, None, None), "price_source": (str, None, None), "power_kw": (float, 0.001, 1e4)}
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


_KIND = {int: "a whole number", float: "a number", str: "text in quotes", bool: "true or false",
         list: "a list", dict: "a table"}


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


def _strings(value: Any, name: str, limit: int = 4096) -> tuple[str, ...]:
    """A list of short strings (ISA flags, notes)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= limit for v in value):
        raise HarnessError(f"{name} must be a list of strings, e.g. [\"avx512f\", \"amx_bf16\"]")
    return tuple(value)


def _num(value: float) -> str:
    """A number for a message: short, and never an error itself (ints beyond float range)."""
    try:
        return f"{value:g}"
    except OverflowError:
        return f"{str(value)[:12]}… ({len(str(value))} digits)"


def _coerce(value: Any, typ: type, lo: Any, hi: Any, name: str) -> Any:
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            value = float(value)
        except OverflowError:  # a JSON integer beyond any float: out of every range
            raise HarnessError(f"{name} = {_num(value)} is out of range — accepted {lo:g} to {hi:g}") from None
    ok = isinstance(value, typ) and not (typ is int and isinstance(value, bool))
    if not ok:
        accepted = f" from {lo:g} to {hi:g}" if lo is not None else ""
        raise HarnessError(f"{name} must be {typ.__name__} ({_KIND[typ]}{accepted}), got {value!r:.40}")
    if typ is str and len(value) > 4096:
        raise HarnessError(f"{name} is {len(value)} characters long — at most 4096")
    if typ is str and any(ord(c) < 32 and c not in "\t\n" for c in value):
        raise HarnessError(f"{name} holds control characters — write plain text")
    if lo is not None and not (lo <= value <= hi):
        raise HarnessError(f"{name} = {_num(value)} is out of range — accepted {lo:g} to {hi:g}")
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
    filled: list[str] = []
    gpus = tuple(_gpu(_check(g, _GPU, f"gpus[{i}]"), i, filled) for i, g in enumerate(gpus_raw))
    _fill_cpu(cpu, mem, filled)
    cluster = _check(data.get("cluster", {}), _CLUSTER, "cluster")
    if not mem.get("measured_bandwidth_gbs") and not mem.get("theoretical_bandwidth_gbs") and not (
            mem.get("channels") and mem.get("speed_mts")) and not any(g.unified_memory is False for g in gpus) \
            and not any(g.unified_memory and (g.bandwidth_gbs or g.measured_bandwidth_gbs) for g in gpus):
        raise HarnessError(f"{source}: [memory] needs channels and speed_mts, or measured_bandwidth_gbs "
                           "— without them host bandwidth is unknown")
    _check_physics(mem, gpus)
    return Machine(
        name=top.get("name") or Path(source).stem, source=f"spec:{source}",
        cpu_model=cpu.get("model"), sockets=cpu.get("sockets", 1), cores_per_socket=cpu.get("cores_per_socket"),
        threads=(cpu["cores_per_socket"] * cpu.get("sockets", 1) * cpu.get("threads_per_core", 1)
                 if cpu.get("cores_per_socket") else None),
        numa_nodes=cpu.get("sockets", 1), memory_type=mem.get("type"), channels=mem.get("channels"),
        speed_mts=mem.get("speed_mts"), capacity_gb=mem.get("capacity_gb"),
        theoretical_bandwidth_gbs=mem.get("theoretical_bandwidth_gbs"),
        measured_bandwidth_gbs=mem.get("measured_bandwidth_gbs"),
        cpu_gflops_fp32=cpu.get("gflops_fp32"), cpu_flags=_strings(cpu.get("flags"), "cpu.flags"),
        gpus=gpus, price=top.get("price"), currency=top.get("currency"), price_date=top.get("price_date"),
        price_source=top.get("price_source"), power_kw=top.get("power_kw"),
        nodes=cluster.get("nodes", 1), interconnect_gbs=cluster.get("interconnect_gbs"),
        notes=tuple(x for x in [top.get("notes"), top.get("source")] if x) + tuple(filled),
    )


def _fill_cpu(cpu: dict[str, Any], mem: dict[str, Any], filled: list[str]) -> None:
    """Cores per socket and DIMM speed from the CPU catalog when the spec names a CPU it knows but
    leaves them out (said in the machine's notes, which every prediction repeats)."""
    rating = rating_for(cpu.get("model"))
    if rating is None:
        return
    if not cpu.get("cores_per_socket"):
        cpu["cores_per_socket"] = rating.cores
        filled.append(f"spec gives no cores_per_socket: {rating.cores}, the {cpu['model']}'s own (CPU catalog)")
    if mem.get("channels") and not mem.get("speed_mts") and not mem.get("measured_bandwidth_gbs") \
            and not mem.get("theoretical_bandwidth_gbs") and rating.max_mts:
        mem["speed_mts"] = rating.max_mts
        filled.append(f"spec gives no memory speed_mts: {rating.max_mts} MT/s, the fastest the {cpu['model']} "
                      "supports, assumed (CPU catalog)")


def _check_physics(mem: dict[str, Any], gpus: tuple[GpuSpec, ...]) -> None:
    """A measured bandwidth above the theoretical peak is a typo in one of the two figures."""
    peak = mem.get("theoretical_bandwidth_gbs")
    if peak is None and mem.get("channels") and mem.get("speed_mts"):
        peak = mem["channels"] * mem["speed_mts"] * 8 / 1000  # 8 bytes per transfer per channel
    measured = mem.get("measured_bandwidth_gbs")
    if peak and measured and measured > 1.05 * peak:
        raise HarnessError(f"memory.measured_bandwidth_gbs = {measured:g} is above the theoretical peak "
                           f"{peak:g} GB/s (channels × speed_mts × 8 bytes) — check both figures")
    for i, g in enumerate(gpus):
        if g.bandwidth_gbs and g.measured_bandwidth_gbs and g.measured_bandwidth_gbs > 1.05 * g.bandwidth_gbs:
            raise HarnessError(f"gpus[{i}].measured_bandwidth_gbs = {g.measured_bandwidth_gbs:g} is above its "
                               f"bandwidth_gbs {g.bandwidth_gbs:g} — check both figures")


def _gpu(d: dict[str, Any], i: int, filled: list[str]) -> GpuSpec:
    if "model" not in d:
        raise HarnessError(f"gpus[{i}] needs a model name")
    sheet = sheet_for(d["model"])
    if sheet is not None:  # figures the spec leaves out, from the GPU's vendor sheet (probes/gpu_sheet.py)
        given = {"memory_gb": None if sheet.unified else sheet.memory_gb, "bandwidth_gbs": sheet.bandwidth_gbs,
                 "bf16_tflops": sheet.bf16_tflops, "unified_memory": sheet.unified or None}
        added = {k: v for k, v in given.items() if v is not None and d.get(k) is None}
        if added:
            d = {**d, **added}
            shown = ", ".join(f"{k} {v:g}" if not isinstance(v, bool) else k for k, v in added.items())
            filled.append(f"gpus[{i}] {d['model']}: {shown} from its vendor sheet (not in the spec)")
    if not d.get("unified_memory") and not d.get("bandwidth_gbs") and not d.get("measured_bandwidth_gbs"):
        raise HarnessError(f"gpus[{i}] ({d['model']}) needs bandwidth_gbs (the vendor's memory bandwidth)")
    return GpuSpec(**d)


# Probe report fields (probes/system.py, probes/gpu.py): (type, min, max); None means not measured.
_PROBE_SYSTEM = {"sockets": (int, 1, 16), "cores_per_socket": (int, 1, 1024), "cores": (int, 1, 1 << 20),
                 "threads": (int, 1, 1 << 20), "numa_nodes": (int, 1, 1024),
                 "memory_total_bytes": (float, 1.0, 1e16), "memory_available_bytes": (float, 0.0, 1e16),
                 "memory_channels": (int, 1, 256), "memory_speed_mts": (int, 100, 20000),
                 "theoretical_bandwidth_gbs": (float, 0.001, 1e5), "cpu_model": (str, None, None),
                 "product_name": (str, None, None), "hostname": (str, None, None),
                 "memory_type": (str, None, None)}
_PROBE_GPU = {"name": (str, None, None), "memory_total_bytes": (float, 0.0, 1e15),
              "theoretical_bandwidth_gbs": (float, 0.001, 1e5), "bf16_tflops": (float, 0.001, 1e6),
              "pcie_gen_max": (int, 1, 7), "pcie_width_max": (int, 1, 32),
              "measured_bandwidth_gbs": (float, 0.001, 1e5)}


def _table(doc: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = doc.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise HarnessError(f"{where}{key} must be a JSON object — the probe report is damaged")
    return value


def _fields(table: dict[str, Any], schema: dict[str, tuple], where: str) -> dict[str, Any]:
    """The known fields of a probe table, type- and range-checked; unknown fields are ignored."""
    return {key: _coerce(table[key], *schema[key], f"{where}.{key}")
            for key in schema if table.get(key) is not None}


def _best(probes: dict[str, Any], key: str) -> float | None:
    entry = probes.get(key)
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise HarnessError(f"probes.{key} must be an object with best/median/samples")
    best = entry.get("best")
    return None if best is None else _coerce(best, float, 1e-6, 1e9, f"probes.{key}.best")


def machine_from_probe(report: dict[str, Any], name: str | None = None) -> Machine:
    """A ``Machine`` from a ``moebench probe --json`` report (the probes' contract dict)."""
    if not isinstance(report, dict):
        raise HarnessError("the probe report must be a JSON object")
    _check_probe_version(report)
    sysinfo = _fields(_table(report, "system", ""), _PROBE_SYSTEM, "system")
    probes = _table(report, "probes", "")
    gpus = _table(report, "gpu", "").get("gpus") or []
    if not isinstance(gpus, list):
        raise HarnessError("gpu.gpus must be a list of GPU objects — the probe report is damaged")
    sockets = sysinfo.get("sockets", 1)
    total = sysinfo.get("memory_total_bytes")
    avail = sysinfo.get("memory_available_bytes")
    return Machine(
        name=name or sysinfo.get("product_name") or sysinfo.get("hostname") or "this machine",
        source="probe", cpu_model=sysinfo.get("cpu_model"), sockets=sockets,
        cores_per_socket=sysinfo.get("cores_per_socket") or (sysinfo.get("cores", 0) // sockets or None),
        threads=sysinfo.get("threads"), numa_nodes=sysinfo.get("numa_nodes", 1),
        memory_type=sysinfo.get("memory_type"), channels=sysinfo.get("memory_channels"),
        speed_mts=sysinfo.get("memory_speed_mts"),
        capacity_gb=total / 1e9 if total else None, available_gb=avail / 1e9 if avail else None,
        theoretical_bandwidth_gbs=sysinfo.get("theoretical_bandwidth_gbs"),
        measured_bandwidth_gbs=_best(probes, "stream_triad"),
        measured_bandwidth_per_node_gbs=_best(probes, "stream_triad@node0"),
        moe_replay_gbs=_best(probes, "moe_replay"), cpu_gflops_fp32=_best(probes, "gemm_fp32"),
        cpu_flags=_strings(_table(report, "system", "").get("cpu_flags"), "system.cpu_flags"),
        gpus=tuple(_gpu_from_probe(g, i) for i, g in enumerate(gpus)),
        notes=_strings(report.get("notes"), "notes"),
    )


def _check_probe_version(report: dict[str, Any]) -> None:
    version = report.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= PROBE_SCHEMA_VERSION:
        raise HarnessError(f"probe report schema_version {version!r:.20} is not one this moebench reads "
                           f"(1 to {PROBE_SCHEMA_VERSION}) — probe again with this version, or upgrade moebench")


def _gpu_from_probe(g: Any, i: int) -> GpuSpec:
    if not isinstance(g, dict):
        raise HarnessError(f"gpu.gpus[{i}] must be a JSON object — the probe report is damaged")
    g = _fields(g, _PROBE_GPU, f"gpu.gpus[{i}]")
    return GpuSpec(
        model=g.get("name") or "NVIDIA GPU", count=1,
        memory_gb=g.get("memory_total_bytes", 0.0) / GPU_GB,  # GiB, as vendors label GPU memory
        bandwidth_gbs=g.get("theoretical_bandwidth_gbs"), bf16_tflops=g.get("bf16_tflops"),
        pcie_gen=g.get("pcie_gen_max"), pcie_width=g.get("pcie_width_max"),
        measured_bandwidth_gbs=g.get("measured_bandwidth_gbs"),
    )


def read_bounded(path: Path, limit: int = MAX_SPEC_BYTES) -> str:
    """Text of a small input file, refusing directories, huge files and binary content."""
    raw = read_bounded_bytes(Path(path), limit, "machine spec")
    if b"\x00" in raw:
        raise HarnessError(f"{path} is a binary file — give a TOML or JSON text file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HarnessError(f"{path} is not UTF-8 text — save it as UTF-8") from None


# Machine.to_dict() as result.json keeps it: field → (type, min, max).
_RECORD = {"name": (str, None, None), "source": (str, None, None), "cpu_model": (str, None, None),
           "threads": (int, 1, 1 << 20), "numa_nodes": (int, 1, 1024), "memory_type": (str, None, None),
           "available_gb": (float, 0.0, 1e7), "measured_bandwidth_per_node_gbs": (float, 1e-6, 1e5),
           "moe_replay_gbs": (float, 1e-6, 1e5), "nodes": _CLUSTER["nodes"],
           "interconnect_gbs": _CLUSTER["interconnect_gbs"], "cpu_gflops_fp32": _CPU["gflops_fp32"],
           "price": _TOP["price"], "currency": _TOP["currency"], "price_date": _TOP["price_date"],
           "price_source": _TOP["price_source"], "power_kw": _TOP["power_kw"],
           **{k: _CPU[k] for k in ("sockets", "cores_per_socket")},
           **{k: _MEMORY[k] for k in ("channels", "speed_mts", "capacity_gb", "measured_bandwidth_gbs",
                                      "theoretical_bandwidth_gbs")}}


def machine_from_record(m: dict[str, Any]) -> Machine:
    """A ``Machine`` from its ``to_dict()`` form, every field type- and range-checked."""
    fields = _fields(m, _RECORD, "machine")
    if not fields.get("name"):
        raise HarnessError("machine.name is missing — is it a complete moebench result.json?")
    gpus = m.get("gpus") or []
    if not isinstance(gpus, list):
        raise HarnessError("machine.gpus must be a list of GPU objects")
    checked = []
    for i, g in enumerate(gpus):
        if not isinstance(g, dict):
            raise HarnessError(f"machine.gpus[{i}] must be a JSON object")
        checked.append(_fields(g, _GPU, f"machine.gpus[{i}]"))
        if not checked[-1].get("model"):
            raise HarnessError(f"machine.gpus[{i}].model is missing")
    return machine_from_dict({**fields, "source": fields.get("source", "result"), "gpus": checked,
                              "cpu_flags": list(_strings(m.get("cpu_flags"), "machine.cpu_flags")),
                              "notes": list(_strings(m.get("notes"), "machine.notes"))})
