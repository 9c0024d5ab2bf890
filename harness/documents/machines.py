"""A machine from whatever ``--machine`` names: a catalog id, a spec file (TOML/JSON), a probe JSON
or a result.json — told apart by their keys, every error naming the file to fix."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Any

from harness.documents.result import Result
from harness.documents.specs import machine_from_probe, parse_spec, read_bounded
from harness.errors import HarnessError
from harness.fsutil import parse_json_text
from harness.hardware.machine import Machine

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def parse_machine_text(text: str, source: str) -> Machine:
    """Any supported machine document (spec TOML/JSON, probe JSON, result.json) from its text.

    Every error names ``source`` first, so the user knows which file to fix.
    """
    try:
        return _parse_machine_text(text, source)
    except HarnessError as exc:
        message = str(exc)
        raise HarnessError(message if message.startswith(source) else f"{source}: {message}") from None


def _parse_machine_text(text: str, source: str) -> Machine:
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise HarnessError(f"{source} is empty — give a machine spec, probe JSON or result.json")
    if stripped.startswith("{") or source.lower().endswith(".json"):
        return machine_from_document(parse_json_text(stripped, source), source)
    try:
        data = tomllib.loads(stripped)
    except tomllib.TOMLDecodeError as exc:
        raise HarnessError(f"{source}: not valid TOML ({exc})") from None
    except (RecursionError, ValueError) as exc:  # deep nesting; an integer too long to convert
        raise HarnessError(f"{source}: unreadable TOML ({type(exc).__name__}) — not a machine spec") from None
    return parse_spec(data, source)


def machine_from_document(data: Any, source: str) -> Machine:
    """Tell a probe report, a result.json and a plain spec apart by their keys."""
    if not isinstance(data, dict):
        raise HarnessError(f"{source}: expected a JSON object, got a JSON {type(data).__name__}")
    if data.get("kind") == "moebench-probe":
        return machine_from_probe(data)
    if "run_id" in data or "schema_version" in data:
        return _machine_from_result(data, source)
    return parse_spec(data, source)


def _machine_from_result(data: dict[str, Any], source: str) -> Machine:
    """The machine a result was predicted for: its record, checked with the whole document."""
    return Result.from_json(data, source).machine.machine


def catalog_dir() -> Any:
    return resources.files("harness") / "data" / "machines"


def machine_ids() -> list[str]:
    return sorted(p.name[:-5] for p in catalog_dir().iterdir() if p.name.endswith(".toml"))


def load_machine(arg: str) -> Machine:
    """A machine from a catalog id, a spec file, a probe JSON or a result.json."""
    if not arg.strip():
        raise HarnessError("--machine is empty — give a spec file, probe JSON, result.json or a catalog id")
    path = Path(arg)
    if not path.exists() and arg in machine_ids():
        text = (catalog_dir() / f"{arg}.toml").read_text(encoding="utf-8")
        return parse_machine_text(text, arg)
    if not path.exists():
        raise HarnessError(f"machine {arg!r} is neither a file nor a catalog id — "
                           f"use a spec path or one of: {', '.join(machine_ids())}")
    return parse_machine_text(read_bounded(path), str(path))
