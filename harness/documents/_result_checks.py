"""Every rule a result.json must meet, checked once when it is read (``Result.from_json``): schema
version, top-level types, run id and tags, probe figures, prediction fields and their ranges, the
machine record and its inventory. A damaged file is refused with one line naming the bad field."""

from __future__ import annotations

import math
import re
from typing import Any

from harness.documents.specs import machine_from_probe, machine_from_record
from harness.errors import HarnessError
from harness.workload.scenario import MAX_BATCH, MAX_TOKENS

SCHEMA_VERSION = 1


MAX_TAG_VALUE = 256


_TAG_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")  # also a safe file-name part (never "..")


# control characters, line/paragraph separators, bidi overrides: a tag value is one line of plain text
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# top-level key: the JSON type it must have when present
_TYPES: dict[str, tuple[type, ...]] = {"run_id": (str,), "started_at": (str,), "finished_at": (str,),
                                       "harness_version": (str,), "tags": (dict,), "machine": (dict,),
                                       "probes": (dict,), "predictions": (list,)}


REQUIRED = ("run_id", "machine", "probes", "predictions")


def parse_tags(items: list[str] | None) -> dict[str, str]:
    """``["bios=A", "dimms=24x48"]`` → dict; a tag without ``=`` or with an odd key is refused."""
    tags: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise HarnessError(f"tag {item!r} is not key=value — write e.g. --tag bios=A")
        if not _TAG_KEY.match(key) or not key.strip("."):
            raise HarnessError(f"tag key {key!r} may only use letters, digits, '_', '.', '-' (at most 64), "
                               "and not only dots")
        check_tag_value(key, value)
        tags[key] = value
    return tags


def check_tag_value(key: str, value: str) -> None:
    """A tag value: one line of printable text, at most ``MAX_TAG_VALUE`` characters."""
    if len(value) > MAX_TAG_VALUE:
        raise HarnessError(f"tag {key!r} value is longer than {MAX_TAG_VALUE} characters")
    if _CONTROL.search(value):
        raise HarnessError(f"tag {key!r} value holds a control character (newline, tab, NUL) — "
                           "give one line of plain text")


def check_schema(data: dict[str, Any], source: str) -> None:
    """The schema version is one this moebench reads, and every top-level key present has its type."""
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise HarnessError(f"{source}: no schema_version — is it a moebench result.json?")
    if version > SCHEMA_VERSION:
        raise HarnessError(f"{source}: schema_version {version} is newer than this moebench "
                           f"understands ({SCHEMA_VERSION}) — upgrade moebench")
    if version < 1:
        raise HarnessError(f"{source}: schema_version {version} is not a moebench result version "
                           f"(1 to {SCHEMA_VERSION}) — rerun the benchmark")
    for key, types in _TYPES.items():
        if key in data and not isinstance(data[key], types):
            raise HarnessError(f"{source}: {key} must be a JSON {_json_type(types[0])}, got "
                               f"{_json_type(type(data[key]))} — the file is damaged")
    try:
        _check_parts(data, source)
    except HarnessError as exc:
        message = str(exc)
        raise HarnessError(message if message.startswith(source) else f"{source}: {message}") from None


def _json_type(t: type) -> str:
    return {dict: "object", list: "array", str: "string", int: "number", float: "number",
            bool: "boolean", type(None): "null"}.get(t, t.__name__)


def _check_parts(data: dict[str, Any], source: str) -> None:
    run_id = data.get("run_id")
    if run_id is not None and not RUN_ID.match(run_id):
        raise HarnessError(f"{source}: run_id {run_id!r:.60} may only use letters, digits, '_', '.', '-' "
                           "(1 to 128, starting with a letter or digit) — the file is damaged")
    for key, value in (data.get("tags") or {}).items():
        if not _TAG_KEY.match(key) or not isinstance(value, (str, int, float, bool)):
            raise HarnessError(f"{source}: tag {key!r:.60} is not key=value text — the file is damaged")
    for name, probe in (data.get("probes") or {}).items():
        _check_probe(probe, f"probes.{name:.60}")
    for i, pred in enumerate(data.get("predictions") or []):
        _check_prediction(pred, f"predictions[{i}]")
    if isinstance(data.get("machine"), dict):
        _check_machine(data["machine"])


def _damaged(where: str, what: str) -> HarnessError:
    return HarnessError(f"{where} must be {what} — the file is damaged")


def _is_number(value: Any) -> bool:
    """A finite JSON number: an integer too large for a float is damage (the report's arithmetic
    would overflow on it), not a value."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


MAX_MEASURE = 1e12  # GB/s, GFLOP/s, seconds: far beyond any machine; larger is damage, not data


def _is_measure(value: Any) -> bool:
    return _is_number(value) and abs(value) <= MAX_MEASURE


def _check_probe(probe: Any, where: str) -> None:
    """One measurement: samples, best, median, cv (numbers or null) and a unit."""
    if not isinstance(probe, dict):
        raise _damaged(where, "an object")
    samples = probe.get("samples")
    if samples is not None and not (isinstance(samples, list)
                                    and all(v is None or _is_measure(v) for v in samples)):
        raise _damaged(f"{where}.samples", f"a list of numbers of at most {MAX_MEASURE:g}")
    for key in ("best", "median", "cv"):
        if probe.get(key) is not None and not _is_measure(probe[key]):
            raise _damaged(f"{where}.{key}", f"a number of at most {MAX_MEASURE:g}")
    if probe.get("unit") is not None and not isinstance(probe["unit"], str):
        raise _damaged(f"{where}.unit", "text")


# prediction key: the JSON types it may have (None always allowed)
_PREDICTION = {"engine": str, "placement": str, "bottleneck": str, "fits": bool, "assumptions": list,
               "decode_tokens_per_s": (int, float), "aggregate_tokens_per_s": (int, float),
               "prefill_tokens_per_s": (int, float), "ttft_s": (int, float), "time_per_token_s": dict,
               "bytes_per_token": dict, "memory": dict, "capacity": dict, "upgrades": list,
               "users_at_target": dict, "cost": dict}


_UPGRADE = {"change": str, "tokens_per_s": (int, float), "gain_pct": (int, float)}


_INPUTS = {"model": str, "quant": str, "engine": str, "placement": str, "context": int, "prompt": int,
           "batch": int, "kv_dtype_bytes": (int, float), "mtp": bool, "engine_resolved": str,
           "placement_resolved": str, "backend": str, "prefill_depth": int}


# What a stored scenario may hold (the CLI's own limits): the report re-predicts
# curves from these, so a damaged value must stop here, not inside the arithmetic.
_INPUT_RANGES = {"context": (0, MAX_TOKENS), "prompt": (0, MAX_TOKENS), "prefill_depth": (0, MAX_TOKENS),
                 "batch": (1, MAX_BATCH), "kv_dtype_bytes": (0.25, 4)}


def _check_prediction(pred: Any, where: str) -> None:
    if not isinstance(pred, dict) or not isinstance(pred.get("inputs", {}), dict):
        raise _damaged(where, "an object with inputs")
    _check_types(pred, _PREDICTION, where)
    _check_types(pred.get("inputs", {}), _INPUTS, f"{where}.inputs")
    for key, (low, high) in _INPUT_RANGES.items():
        value = pred.get("inputs", {}).get(key)
        if value is not None and not low <= value <= high:
            raise _damaged(f"{where}.inputs.{key}", f"a number from {low:,} to {high:,}")
    for key in ("memory", "time_per_token_s", "bytes_per_token"):
        _check_numbers_tree(pred.get(key), f"{where}.{key}")
    for key in ("capacity", "users_at_target", "cost"):
        for name, value in (pred.get(key) or {}).items():
            text_ok = key == "cost" and name in ("currency", "assumption")  # harness/sensitivity.py cost()
            if value is not None and not _is_number(value) and not isinstance(value, bool) and not (
                    text_ok and isinstance(value, str)):
                raise _damaged(f"{where}.{key}.{name:.40}", "a number")
    for i, upgrade in enumerate(pred.get("upgrades") or []):
        if not isinstance(upgrade, dict):
            raise _damaged(f"{where}.upgrades[{i}]", "an object")
        _check_types(upgrade, _UPGRADE, f"{where}.upgrades[{i}]")


def _check_types(table: dict[str, Any], types: dict[str, Any], where: str) -> None:
    for key, typ in types.items():
        value = table.get(key)
        if value is None:
            continue
        numeric = typ in (int, float, (int, float))
        bad = not isinstance(value, typ) or (isinstance(value, bool) and numeric)
        if bad or (isinstance(value, (int, float)) and not isinstance(value, bool) and not _is_number(value)):
            raise _damaged(f"{where}.{key}", _expected(typ))


def _expected(typ: Any) -> str:
    if typ is _SCALAR:
        return "text, a number or true/false"
    return f"a JSON {_json_type(typ if isinstance(typ, type) else float)}"


def _check_numbers_tree(value: Any, where: str, depth: int = 0) -> None:
    """Objects (two levels at most) whose leaves are numbers or null: memory by device and class."""
    if value is None or (_is_number(value) and depth > 0):
        return
    if not isinstance(value, dict) or depth > 2:
        raise _damaged(where, "an object of numbers")
    for key, item in value.items():
        _check_numbers_tree(item, f"{where}.{key:.40}", depth + 1)


# The probe inventory a result keeps beside the Machine (probes/runner.py, probes/system.py,
# probes/gpu.py): part → {key: JSON types}; every other key just has to be a JSON value.
_SCALAR = (str, int, float, bool)


_INVENTORY: dict[str, dict[str, Any]] = {
    "system": {"l3_cache_bytes": (int, float), "dimm_slots": int, "dimms": list, "missing": dict,
               "cpu_flags": list, **{k: _SCALAR for k in ("bios_vendor", "bios_version", "bios_date",
                                                          "product_name", "hostname", "kernel", "governor",
                                                          "thp", "smt", "numa_balancing", "memory_type")}},
    "gpu_probe": {"gpus": list, "driver_version": _SCALAR, "cuda_version": _SCALAR, "reason": _SCALAR},
    "probe": {"duration_s": (int, float), "settings": dict, "notes": list, "started_at": str,
              "system": dict, "gpu": dict, "probes": dict},
}


_DIMM = {"size_bytes": (int, float), "speed_mts": (int, float), "configured_speed_mts": (int, float),
         **{k: _SCALAR for k in ("type", "manufacturer", "part_number", "locator")}}


def _check_machine(machine: dict[str, Any]) -> None:
    """The machine record: Machine fields type- and range-checked, the inventory parts typed."""
    if machine.get("fingerprint") is not None and not isinstance(machine["fingerprint"], str):
        raise _damaged("machine.fingerprint", "text")
    for part, fields in _INVENTORY.items():
        table = machine.get(part)
        if table is None:
            continue
        if not isinstance(table, dict):
            raise _damaged(f"machine.{part}", "an object")
        _check_types(table, fields, f"machine.{part}")
    for i, dimm in enumerate((machine.get("system") or {}).get("dimms") or []):
        if not isinstance(dimm, dict):
            raise _damaged(f"machine.system.dimms[{i}]", "an object")
        _check_types(dimm, _DIMM, f"machine.system.dimms[{i}]")
    for i, gpu in enumerate((machine.get("gpu_probe") or {}).get("gpus") or []):
        if not isinstance(gpu, dict):
            raise _damaged(f"machine.gpu_probe.gpus[{i}]", "an object")
    machine_from_record(machine)
    if isinstance(machine.get("probe"), dict):
        machine_from_probe(machine["probe"])
