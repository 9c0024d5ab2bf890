"""Parser for ``dmidecode -t memory`` (type 17 "Memory Device" records), pure."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Dimm:
    """One populated memory slot as SMBIOS describes it."""

    locator: str
    size_bytes: int
    type: str | None  # "DDR5"; None when dmidecode is too old to name it ("<OUT OF SPEC>")
    speed_mts: int | None  # the module's rated speed
    configured_speed_mts: int | None  # the speed the controller runs it at
    manufacturer: str | None
    part_number: str | None
    bank_locator: str | None = None


_UNKNOWN = {"", "unknown", "not specified", "not provided", "none", "<out of spec>", "--",
            "no dimm", "undefined"}
_UNITS = {"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40}


def split_records(text: str, title: str) -> list[dict[str, str]]:
    """Key/value dicts of every record whose title line is exactly ``title``."""
    records: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if not line.startswith(("\t", " ")):
            current = {} if line.strip() == title else None
            if current is not None:
                records.append(current)
            continue
        key, sep, value = line.strip().partition(":")
        if current is not None and sep:
            current.setdefault(key.strip(), value.strip())
    return records


def _known(value: str | None) -> str | None:
    return None if value is None or value.strip().lower() in _UNKNOWN else value.strip()


def parse_dimm_size(value: str | None) -> int | None:
    """'64 GB' / '16384 MB' -> bytes; 'No Module Installed' -> None."""
    m = re.match(r"(\d+)\s*([KMGT]B)", value or "", re.IGNORECASE)
    return int(m.group(1)) * _UNITS[m.group(2).lower()] if m else None


def parse_speed(value: str | None) -> int | None:
    """'4800 MT/s' or (dmidecode < 3.0) '2400 MHz', both meaning transfers per second."""
    m = re.match(r"(\d+)\s*(MT/s|MHz)", value or "")
    return int(m.group(1)) if m else None


def parse_dimms(text: str) -> tuple[Dimm, ...]:
    """The populated DIMMs (empty slots and zero-sized entries are left out)."""
    dimms = []
    for r in split_records(text, "Memory Device"):
        size = parse_dimm_size(r.get("Size"))
        if not size:
            continue
        configured = r.get("Configured Memory Speed") or r.get("Configured Clock Speed")
        dimms.append(Dimm(
            locator=r.get("Locator", "?"), size_bytes=size, type=_known(r.get("Type")),
            speed_mts=parse_speed(r.get("Speed")), configured_speed_mts=parse_speed(configured),
            manufacturer=_known(r.get("Manufacturer")), part_number=_known(r.get("Part Number")),
            bank_locator=_known(r.get("Bank Locator")),
        ))
    return tuple(dimms)


def count_slots(text: str) -> int:
    """All memory device slots, populated or not."""
    return len(split_records(text, "Memory Device"))
