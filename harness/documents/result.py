"""``result.json`` as typed, frozen documents: ``Result`` holding a ``MachineRecord``, one
``ProbeRecord`` per measurement and one ``PredictionRecord`` per scenario.

``Result.from_json`` is the one place a document is checked (``_result_checks``) and migrated from
an older ``schema_version`` (one explicit step per version, asv's ``update_to_N``; version 1 is the
only one so far); ``to_json`` gives the JSON object back. Keys (contract, docs/result-schema.md):
schema_version, run_id, started_at, finished_at, harness_version, tags, machine, probes,
predictions. A ``Result`` also reads like the JSON object it came from (``result["run_id"]``), so
scripts written against the dictionaries keep working.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from harness import __version__
from harness.documents._result_checks import (MAX_TAG_VALUE, REQUIRED, RUN_ID, SCHEMA_VERSION, check_schema,
                                              check_tag_value, parse_tags)
from harness.documents.specs import machine_from_record
from harness.errors import HarnessError
from harness.fsutil import atomic_write_text, parse_json_text, read_bounded_bytes
from harness.hardware.machine import Machine

__all__ = ["MAX_TAG_VALUE", "RUN_ID", "SCHEMA_VERSION", "MachineRecord", "PredictionRecord", "ProbeRecord", "Result",
           "build_result", "check_schema", "check_tag_value", "dumps", "load_result", "parse_tags", "save_result"]

MAX_RESULT_BYTES = 64 * 1024 * 1024


# One step per schema version: MIGRATIONS[n] turns a version-n document into version n + 1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """The document brought to ``SCHEMA_VERSION``, one explicit step per older version."""
    while data["schema_version"] < SCHEMA_VERSION:
        data = MIGRATIONS[data["schema_version"]](data)
    return data


def _kept(typed: dict[str, Any], present: frozenset[str]) -> dict[str, Any]:
    """Typed keys the file had, and any other that has a value (a key is never invented as null)."""
    return {k: v for k, v in typed.items() if k in present or v not in (None, [], {}, ())}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class ProbeRecord:
    """One measurement: its samples and their best, median and coefficient of variation."""

    name: str
    samples: tuple[float | None, ...]
    best: float | None
    median: float | None
    cv: float | None
    unit: str | None
    extra: Mapping[str, Any] = field(default_factory=dict)  # other keys, kept as written
    present: frozenset[str] = field(default=frozenset(), repr=False)  # typed keys the file had

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> ProbeRecord:
        known = ("samples", "best", "median", "cv", "unit")
        return cls(name=name, samples=tuple(_number(v) for v in data.get("samples") or ()),
                   best=_number(data.get("best")), median=_number(data.get("median")), cv=_number(data.get("cv")),
                   unit=data.get("unit"), extra={k: v for k, v in data.items() if k not in known},
                   present=frozenset(k for k in known if k in data))

    def to_json(self) -> dict[str, Any]:
        typed = {"samples": list(self.samples), "best": self.best, "median": self.median, "cv": self.cv,
                 "unit": self.unit}
        return {**self.extra, **_kept(typed, self.present)}


@dataclass(frozen=True)
class PredictionRecord:
    """One scenario's prediction as a result keeps it (``harness.perf.Prediction`` plus the what-if
    answers of ``harness.perf.sensitivity``)."""

    inputs: Mapping[str, Any]
    engine: str | None
    placement: str | None
    decode_tokens_per_s: float | None
    aggregate_tokens_per_s: float | None
    prefill_tokens_per_s: float | None
    ttft_s: float | None
    fits: bool
    bottleneck: str | None
    time_per_token_s: Mapping[str, float]
    bytes_per_token: Mapping[str, float]
    memory: Mapping[str, Mapping[str, float]]
    capacity: Mapping[str, Any]
    assumptions: tuple[str, ...]
    upgrades: tuple[Mapping[str, Any], ...] | None = None
    users_at_target: Mapping[str, Any] | None = None
    cost: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    present: frozenset[str] = field(default=frozenset(), repr=False)

    _NUMBERS = ("decode_tokens_per_s", "aggregate_tokens_per_s", "prefill_tokens_per_s", "ttft_s")
    _TABLES = ("time_per_token_s", "bytes_per_token", "memory", "capacity")
    _OPTIONAL = ("upgrades", "users_at_target", "cost")

    @property
    def model(self) -> str | None:
        return self.inputs.get("model")

    @property
    def quant(self) -> str | None:
        return self.inputs.get("quant")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PredictionRecord:
        known = ("inputs", "engine", "placement", "fits", "bottleneck", "assumptions", *cls._NUMBERS, *cls._TABLES,
                 *cls._OPTIONAL)
        upgrades = data.get("upgrades")
        return cls(inputs=dict(data.get("inputs") or {}), engine=data.get("engine"), placement=data.get("placement"),
                   **{k: _number(data.get(k)) for k in cls._NUMBERS}, fits=bool(data.get("fits")),
                   bottleneck=data.get("bottleneck"), **{k: dict(data.get(k) or {}) for k in cls._TABLES},
                   assumptions=tuple(str(a) for a in data.get("assumptions") or ()),
                   upgrades=tuple(upgrades) if isinstance(upgrades, list) else None,
                   users_at_target=data.get("users_at_target"), cost=data.get("cost"),
                   extra={k: v for k, v in data.items() if k not in known},
                   present=frozenset(k for k in known if k in data))

    def to_json(self) -> dict[str, Any]:
        typed = {"inputs": dict(self.inputs), "engine": self.engine, "placement": self.placement,
                 **{k: getattr(self, k) for k in self._NUMBERS}, "fits": self.fits, "bottleneck": self.bottleneck,
                 **{k: dict(getattr(self, k)) for k in self._TABLES}, "assumptions": list(self.assumptions),
                 "upgrades": None if self.upgrades is None else [dict(u) for u in self.upgrades],
                 "users_at_target": self.users_at_target, "cost": self.cost}
        return {**self.extra, **_kept(typed, self.present | {"fits"})}


@dataclass(frozen=True)
class MachineRecord:
    """The machine a result was predicted for (``Machine``), with the raw inventory the probes
    collected (system, GPUs, the probe report) and the hardware fingerprint."""

    machine: Machine
    fingerprint: str | None
    system: Mapping[str, Any]
    gpu_probe: Mapping[str, Any]
    probe: Mapping[str, Any] | None
    raw: Mapping[str, Any]  # the record as written (Machine fields plus the inventory)

    @property
    def name(self) -> str:
        return self.machine.name

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MachineRecord:
        # The record's own fields are the Machine the predictions were made for (``machine_record`` in
        # harness/app/run.py writes ``Machine.to_dict()``; a price added later lives only there), not
        # the Machine its raw probe report would give today.
        probe = data.get("probe") if isinstance(data.get("probe"), Mapping) else None
        return cls(machine=machine_from_record(dict(data)), fingerprint=data.get("fingerprint"),
                   system=dict(data.get("system") or {}),
                   gpu_probe=dict(data.get("gpu_probe") or {}), probe=probe, raw=dict(data))

    def to_json(self) -> dict[str, Any]:
        return dict(self.raw)


@dataclass(frozen=True, eq=False)
class Result(Mapping[str, Any]):
    """One run: what was measured and what was predicted, with its tags."""

    run_id: str
    started_at: str | None
    finished_at: str | None
    harness_version: str | None
    tags: Mapping[str, str]
    machine: MachineRecord
    probes: Mapping[str, ProbeRecord]
    predictions: tuple[PredictionRecord, ...]
    schema_version: int = SCHEMA_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)
    present: frozenset[str] = field(default=frozenset(), repr=False)

    @classmethod
    def from_json(cls, data: Any, source: str = "result") -> Result:
        """Check (all of it, once), migrate, and type a parsed result.json."""
        if isinstance(data, Result):
            return data
        if not isinstance(data, Mapping):
            raise HarnessError(f"{source}: not a moebench result (expected a JSON object)")
        data = dict(data)
        check_schema(data, source)
        if not str(data.get("run_id") or "").strip():
            raise HarnessError(f"{source}: result has no run_id")
        missing = [k for k in REQUIRED if k not in data]
        if missing:
            raise HarnessError(f"{source}: missing keys {', '.join(missing)} — not a complete moebench result")
        data = migrate(data)
        known = ("schema_version", "run_id", "started_at", "finished_at", "harness_version", "tags", "machine",
                 "probes", "predictions")
        try:
            machine = MachineRecord.from_json(data["machine"])
        except HarnessError as exc:
            raise HarnessError(f"{source}: {exc}") from None
        return cls(run_id=data["run_id"], started_at=data.get("started_at"), finished_at=data.get("finished_at"),
                   harness_version=data.get("harness_version"), tags=dict(data.get("tags") or {}), machine=machine,
                   probes={str(k): ProbeRecord.from_json(str(k), v) for k, v in data["probes"].items()},
                   predictions=tuple(PredictionRecord.from_json(p) for p in data["predictions"]),
                   schema_version=data["schema_version"], extra={k: v for k, v in data.items() if k not in known},
                   present=frozenset(k for k in known if k in data))

    def to_json(self) -> dict[str, Any]:
        typed = {"schema_version": self.schema_version, "run_id": self.run_id, "started_at": self.started_at,
                 "finished_at": self.finished_at, "harness_version": self.harness_version, "tags": dict(self.tags),
                 "machine": self.machine.to_json(), "probes": {k: p.to_json() for k, p in self.probes.items()},
                 "predictions": [p.to_json() for p in self.predictions]}
        return {**self.extra, **_kept(typed, self.present | set(REQUIRED) | {"schema_version"})}

    to_dict = to_json

    # Read-only mapping over the JSON form, for code written against the dictionaries.
    @cached_property
    def _json(self) -> dict[str, Any]:
        return self.to_json()

    def __getitem__(self, key: str) -> Any:
        return self._json[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._json)

    def __len__(self) -> int:
        return len(self._json)


def build_result(*, run_id: str, started_at: str, finished_at: str, tags: dict[str, str],
                 machine: dict[str, Any], probes: dict[str, Any], predictions: list[dict[str, Any]]) -> Result:
    """A new run's result, checked like one read from a file."""
    return Result.from_json(json.loads(dumps({
        "schema_version": SCHEMA_VERSION, "run_id": run_id, "started_at": started_at,
        "finished_at": finished_at, "harness_version": __version__, "tags": dict(tags),
        "machine": machine, "probes": probes, "predictions": predictions,
    })), "new result")


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    if isinstance(obj, float):
        return None
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _clean(obj: Any) -> Any:
    """JSON has no NaN/inf: write them as null (a missing value, never a fake number)."""
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def dumps(data: Any) -> str:
    if isinstance(data, Result):
        data = data.to_json()
    return json.dumps(_clean(data), indent=2, ensure_ascii=False, default=_json_default, allow_nan=False) + "\n"


def save_result(result: Result | Mapping[str, Any], path: Path) -> Path:
    """Write result.json atomically."""
    return atomic_write_text(Path(path), dumps(result))


def load_result(path: Path) -> Result:
    """A result.json, checked: JSON object, known schema version, required keys and their types."""
    path = Path(path)
    if path.is_dir():
        path = path / "result.json"
    if not path.exists():
        raise HarnessError(f"{path}: no such result file — give a result.json or the --out folder of a run")
    data = parse_json_text(read_bounded_bytes(path, MAX_RESULT_BYTES, "result.json"), str(path))
    if not isinstance(data, dict):
        raise HarnessError(f"{path}: expected a JSON object")
    return Result.from_json(data, str(path))
