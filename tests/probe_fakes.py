"""Fakes for the probes' outside systems, replaying files captured on real machines.

Each host lives in ``tests/data/hosts/<machine>/`` as a mini root: ``proc/...`` and ``sys/...``
answer ``read_text``/``list_dir`` for ``/proc/...`` and ``/sys/...``; ``commands/<name>.txt``
answers the one command line the probes run for it; ``nvidia-smi-q.txt`` (plus
``nvml-extra.json`` for fields ``nvidia-smi -q`` does not print) feeds ``FakeNvml``.
A fake refuses every path it was not given: it returns None (as a real machine without that
file would) and records the path in ``refused``, never falling through to this machine's files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from probes._nvml import NvmlUnavailable

HOSTS = Path(__file__).parent / "data" / "hosts"

# The command lines the probes run, and the capture that answers each.
COMMANDS = {("dmidecode", "-t", "memory"): "dmidecode.txt"}


class FakeSources:
    """``Sources`` over one captured host directory."""

    def __init__(self, host: str, extra: dict[str, str] | None = None) -> None:
        self.root = HOSTS / host
        if not self.root.is_dir():
            raise FileNotFoundError(self.root)
        self.extra = dict(extra or {})  # path -> text, for scenario tests (e.g. a THP setting)
        self.refused: list[str] = []
        self.ran: list[list[str]] = []

    def _local(self, path: str) -> Path | None:
        if not path.startswith(("/proc/", "/sys/")) or ".." in path:
            return None
        return self.root / path.lstrip("/")

    def read_text(self, path: str) -> str | None:
        if path in self.extra:
            return self.extra[path]
        local = self._local(path)
        if local is None or not local.is_file():
            self.refused.append(path)
            return None
        return local.read_text(encoding="utf-8", errors="replace")

    def list_dir(self, path: str) -> list[str] | None:
        local = self._local(path.rstrip("/") + "/")
        if local is None or not local.is_dir():
            self.refused.append(path)
            return None
        return sorted(p.name for p in local.iterdir())

    def run(self, argv: list[str], timeout: float) -> str | None:
        self.ran.append(list(argv))
        name = COMMANDS.get(tuple(argv))
        capture = self.root / "commands" / name if name else None
        if capture is None or not capture.is_file():
            self.refused.append(" ".join(argv))
            return None
        return capture.read_text(encoding="utf-8", errors="replace")


class FakeClock:
    """A clock that advances ``step`` seconds every time it is read."""

    def __init__(self, step: float = 0.001) -> None:
        self.now, self.step = 0.0, step

    def monotonic(self) -> float:
        self.now += self.step
        return self.now


def parse_nvidia_smi_q(text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(header, one nested dict per GPU) from ``nvidia-smi -q`` text (4-space indentation)."""
    header: dict[str, Any] = {}
    gpus: list[dict[str, Any]] = []
    stack: list[tuple[int, dict[str, Any]]] = [(-1, header)]
    for line in text.splitlines():
        if not line.strip() or line.startswith("="):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0 and line.startswith("GPU "):
            gpus.append({"Bus Id": line[4:].strip()})
            stack = [(0, gpus[-1])]
            continue
        while len(stack) > 1 and stack[-1][0] >= indent:
            stack.pop()
        key, sep, value = line.strip().partition(":")
        if sep and value.strip():
            stack[-1][1].setdefault(key.strip(), value.strip())
        else:
            child: dict[str, Any] = {}
            stack[-1][1].setdefault(key.strip(), child)
            stack.append((indent, child))
    return header, gpus


def parse_topo_matrix(text: str) -> dict[tuple[int, int], str]:
    """{(i, j): 'NV12' | 'SYS' | ...} for the GPU rows and columns of ``nvidia-smi topo -m``
    (split on any whitespace: the captured blog paste has tabs expanded to spaces)."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    header = [h for h in lines[0] if re.fullmatch(r"GPU\d+", h)]
    matrix: dict[tuple[int, int], str] = {}
    for row in lines[1:]:
        if not re.fullmatch(r"GPU\d+", row[0]):
            continue
        a = int(row[0][3:])
        for col, value in zip(header, row[1:]):
            if value != "X":
                matrix[(a, int(col[3:]))] = value
    return matrix


def _dig(tree: dict[str, Any], *path: str) -> str | None:
    node: Any = tree
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, str) and node not in {"N/A", "[N/A]"} else None


def _number(text: str | None) -> float | None:
    m = re.match(r"-?[\d.]+", text or "")
    return float(m.group(0)) if m else None


def _int(text: str | None) -> int | None:
    n = _number(text)
    return None if n is None else int(n)


class FakeNvml:
    """``Nvml`` answering from a captured ``nvidia-smi -q`` (and ``nvml-extra.json``)."""

    def __init__(self, host: str | None = None, unavailable: str | None = None) -> None:
        self.unavailable = unavailable
        self.header: dict[str, Any] = {}
        self.gpus: list[dict[str, Any]] = []
        self.extra: dict[str, Any] = {}
        self.shut = False
        self.topology: dict[tuple[int, int], str] = {}
        if host is not None:
            root = HOSTS / host
            smi, topo = root / "nvidia-smi-q.txt", root / "nvidia-smi-topo-m.txt"
            if smi.is_file():
                self.header, self.gpus = parse_nvidia_smi_q(smi.read_text())
            if topo.is_file():
                self.topology = parse_topo_matrix(topo.read_text())
                if not self.gpus:  # a topology-only capture: GPUs known by index alone
                    self.gpus = [{} for _ in range(1 + max(a for a, _ in self.topology))]
            extra = root / "nvml-extra.json"
            self.extra = json.loads(extra.read_text()) if extra.is_file() else {}

    def init(self) -> None:
        if self.unavailable:
            raise NvmlUnavailable(self.unavailable)

    def shutdown(self) -> None:
        self.shut = True

    def driver_version(self) -> str | None:
        return _dig(self.header, "Driver Version")

    def cuda_version(self) -> str | None:
        return _dig(self.header, "CUDA Version")

    def device_count(self) -> int:
        return len(self.gpus)

    def link(self, a: int, b: int) -> str | None:
        return self.topology.get((a, b))

    def query(self, index: int, field: str) -> Any:
        g = self.gpus[index]
        if field in self.extra.get("fields", {}):
            return self.extra["fields"][field]
        return _FIELDS[field](g) if field in _FIELDS else None


def _mib(g: dict[str, Any], key: str) -> int | None:
    n = _int(_dig(g, "FB Memory Usage", key))
    return None if n is None else n << 20


def _power(g: dict[str, Any]) -> float | None:
    for section in ("GPU Power Readings", "Power Readings"):
        value = _number(_dig(g, section, "Current Power Limit") or _dig(g, section, "Power Limit"))
        if value is not None:
            return value
    return None


def _enabled(text: str | None) -> bool | None:
    return None if text is None else text == "Enabled"


_LINK = ("PCI", "GPU Link Info")
_FIELDS = {
    "name": lambda g: _dig(g, "Product Name"),
    "uuid": lambda g: _dig(g, "GPU UUID"),
    "memory_total_bytes": lambda g: _mib(g, "Total"),
    "memory_free_bytes": lambda g: _mib(g, "Free"),
    "max_memory_clock_mhz": lambda g: _int(_dig(g, "Max Clocks", "Memory")),
    "sm_clock_max_mhz": lambda g: _int(_dig(g, "Max Clocks", "SM")),
    "pcie_gen_max": lambda g: _int(_dig(g, *_LINK, "PCIe Generation", "Max")),
    "pcie_gen_current": lambda g: _int(_dig(g, *_LINK, "PCIe Generation", "Current")),
    "pcie_width_max": lambda g: _int(_dig(g, *_LINK, "Link Width", "Max")),
    "pcie_width_current": lambda g: _int(_dig(g, *_LINK, "Link Width", "Current")),
    "power_limit_w": _power,
    "temperature_c": lambda g: _int(_dig(g, "Temperature", "GPU Current Temp")),
    "ecc_enabled": lambda g: _enabled(_dig(g, "ECC Mode", "Current")),
    "mig_enabled": lambda g: _enabled(_dig(g, "MIG Mode", "Current")),
}
