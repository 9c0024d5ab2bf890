"""``result.json``: build, write atomically, load and check the schema version.

Keys (contract, DESIGN.md "Results"): schema_version, run_id, started_at, finished_at,
harness_version, tags, machine, probes, predictions.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from harness import __version__
from harness.errors import HarnessError
from harness.fsutil import atomic_write_text

SCHEMA_VERSION = 1
MAX_RESULT_BYTES = 64 * 1024 * 1024
_TAG_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def parse_tags(items: list[str] | None) -> dict[str, str]:
    """``["bios=A", "dimms=24x48"]`` → dict; a tag without ``=`` or with an odd key is refused."""
    tags: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise HarnessError(f"tag {item!r} is not key=value — write e.g. --tag bios=A")
        if not _TAG_KEY.match(key):
            raise HarnessError(f"tag key {key!r} may only use letters, digits, '_', '.', '-' (at most 64)")
        if len(value) > 256:
            raise HarnessError(f"tag {key!r} value is longer than 256 characters")
        tags[key] = value
    return tags


def build_result(*, run_id: str, started_at: str, finished_at: str, tags: dict[str, str],
                 machine: dict[str, Any], probes: dict[str, Any],
                 predictions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION, "run_id": run_id, "started_at": started_at,
        "finished_at": finished_at, "harness_version": __version__, "tags": dict(tags),
        "machine": machine, "probes": probes, "predictions": predictions,
    }


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
    return json.dumps(_clean(data), indent=2, ensure_ascii=False, default=_json_default, allow_nan=False) + "\n"


def save_result(result: dict[str, Any], path: Path) -> Path:
    """Write result.json atomically."""
    return atomic_write_text(Path(path), dumps(result))


def check_schema(data: dict[str, Any], source: str) -> None:
    version = data.get("schema_version")
    if not isinstance(version, int):
        raise HarnessError(f"{source}: no schema_version — is it a moebench result.json?")
    if version > SCHEMA_VERSION:
        raise HarnessError(f"{source}: schema_version {version} is newer than this moebench "
                           f"understands ({SCHEMA_VERSION}) — upgrade moebench")


def load_result(path: Path) -> dict[str, Any]:
    """A result.json, checked: JSON object, known schema version, required keys."""
    path = Path(path)
    if path.is_dir():
        path = path / "result.json"
    if not path.is_file():
        raise HarnessError(f"{path}: no such result file — give a result.json or the --out folder of a run")
    if path.stat().st_size > MAX_RESULT_BYTES:
        raise HarnessError(f"{path} is larger than {MAX_RESULT_BYTES} bytes — not a moebench result")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HarnessError(f"{path}: not valid JSON ({exc}) — the file is damaged") from None
    if not isinstance(data, dict):
        raise HarnessError(f"{path}: expected a JSON object")
    check_schema(data, str(path))
    missing = [k for k in ("run_id", "machine", "probes", "predictions") if k not in data]
    if missing:
        raise HarnessError(f"{path}: missing keys {', '.join(missing)} — not a complete moebench result")
    return data
