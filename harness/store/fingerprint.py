"""Machine fingerprint: the identity of a hardware configuration, not of a host name.

Two runs share a fingerprint when they ran on the same CPU model and socket count, the same DIMM
population (slot, size, type, rated speed, make, part) and the same GPUs. Everything a lab turns
in the BIOS or the OS is left out on purpose — configured memory speed, NUMA mode, SMT (threads),
BIOS version, governor — so that a BIOS change is compared *within* one fingerprint, while a DIMM
or GPU swap starts a new one. Serial numbers and the host name are left out too: identical boxes
share a fingerprint (the run keeps ``machine.name`` to tell them apart). Memory capacity is
left out because MemTotal moves with firmware reservations; the DIMM list carries the sizes. Where
``dmidecode`` was not permitted the DIMM list is empty and a DIMM swap goes unnoticed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

# Keys of a DIMM record that describe the module itself (probes/_dmidecode.Dimm and spellings
# seen in older result files); configured speed and serials are deliberately absent.
_DIMM_KEYS = ("locator", "bank_locator", "size_bytes", "size_gb", "size", "type", "speed_mts",
              "manufacturer", "part_number")
_GPU_KEYS = ("model", "count", "memory_gb")


def _dimms(machine: Mapping[str, Any]) -> list[dict[str, Any]]:
    system = machine.get("system") or {}
    raw = system.get("dimms") if isinstance(system, Mapping) else None
    raw = raw if raw is not None else machine.get("dimms") or []
    picked = [{k: d[k] for k in _DIMM_KEYS if d.get(k) not in (None, "")}
              for d in raw if isinstance(d, Mapping)]
    return sorted((d for d in picked if d.get("size_bytes", d.get("size_gb", d.get("size"))) != 0),
                  key=lambda d: json.dumps(d, sort_keys=True))


def _gpus(machine: Mapping[str, Any]) -> list[dict[str, Any]]:
    gpus = [{k: g.get(k) for k in _GPU_KEYS} for g in machine.get("gpus") or []
            if isinstance(g, Mapping)]
    for g in gpus:
        if isinstance(g.get("memory_gb"), (int, float)):
            g["memory_gb"] = round(g["memory_gb"])  # NVML's total varies by driver reservation
    return sorted(gpus, key=lambda g: json.dumps(g, sort_keys=True))


def identity(machine: Mapping[str, Any]) -> dict[str, Any]:
    """The hardware facts the fingerprint hashes (shown by ``history --json`` for debugging)."""
    return {
        "cpu_model": " ".join(str(machine.get("cpu_model") or "").split()),
        "sockets": machine.get("sockets"),
        "cores_per_socket": machine.get("cores_per_socket"),
        "memory_type": machine.get("memory_type"),
        "dimms": _dimms(machine),
        "gpus": _gpus(machine),
    }


def fingerprint(machine: Mapping[str, Any]) -> str:
    """16 hex digits of SHA-256 over the canonical JSON of ``identity(machine)``."""
    text = json.dumps(identity(machine), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
