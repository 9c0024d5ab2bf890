"""``Machine``: one dataclass for a probed machine and for a machine described by a spec file.

A probed machine has measured fields filled (STREAM triad, GEMM rate, NVML readings); a spec file
gives theoretical figures only. ``predict`` uses a measured figure where there is one and a
documented estimate otherwise, and says which in its assumptions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


# A GPU's memory as vendors label it is binary: nvidia-smi shows an H100 SXM "80 GB" as 81,559 MiB and
# an H100 NVL "94 GB" as 95,830 MiB (the h100-sxm-8gpu and h100-nvl-2gpu host captures), an H20 "96 GB"
# as 97,871 MiB. Spec and sheet figures in GB are read as GiB; a probe stores NVML's bytes in GiB too.
GPU_GB = 2 ** 30


@dataclass(frozen=True)
class GpuSpec:
    """One kind of GPU in the machine (``count`` identical cards)."""

    model: str
    count: int = 1
    memory_gb: float = 0.0
    bandwidth_gbs: float | None = None  # theoretical (vendor sheet, or bus width x clock from NVML)
    bf16_tflops: float | None = None  # dense BF16 tensor rate, vendor sheet
    pcie_gen: int | None = None
    pcie_width: int | None = None
    unified_memory: bool = False  # shares host memory and its bandwidth (Apple, Ryzen AI Max, GB10)
    measured_bandwidth_gbs: float | None = None
    interconnect_gbs: float | None = None  # GPU-to-GPU per direction (NVLink), if any


@dataclass(frozen=True)
class Machine:
    """Everything ``predict`` needs to know about a box (or each node of a cluster)."""

    name: str
    source: str  # "probe" or "spec:<path or id>"
    cpu_model: str | None = None
    sockets: int = 1
    cores_per_socket: int | None = None
    threads: int | None = None
    numa_nodes: int = 1
    memory_type: str | None = None
    channels: int | None = None  # populated channels over all sockets
    speed_mts: int | None = None
    capacity_gb: float | None = None  # installed host memory
    available_gb: float | None = None  # free for a model now (probe only)
    theoretical_bandwidth_gbs: float | None = None  # channels x MT/s x 8 B
    measured_bandwidth_gbs: float | None = None  # STREAM triad best, all cores
    measured_bandwidth_per_node_gbs: float | None = None
    moe_replay_gbs: float | None = None  # measured expert-GEMV bandwidth
    cpu_gflops_fp32: float | None = None  # measured GEMM rate
    cpu_flags: tuple[str, ...] = ()
    gpus: tuple[GpuSpec, ...] = ()
    price: float | None = None  # of one box (one node of a cluster)
    currency: str | None = None
    price_date: str | None = None  # when the price was quoted or published
    price_source: str | None = None
    power_kw: float | None = None  # one box's maximum power draw
    nodes: int = 1
    interconnect_gbs: float | None = None  # per node, one direction
    notes: tuple[str, ...] = field(default=())

    @property
    def gpu_count(self) -> int:
        return sum(g.count for g in self.gpus)

    @property
    def gpu_memory_gb(self) -> float:
        return sum(g.count * g.memory_gb for g in self.gpus if not g.unified_memory)

    @property
    def has_unified_gpu(self) -> bool:
        return any(g.unified_memory for g in self.gpus)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["gpus"] = [asdict(g) for g in self.gpus]
        d["cpu_flags"] = list(self.cpu_flags)
        d["notes"] = list(self.notes)
        return d


def machine_from_dict(d: dict[str, Any]) -> Machine:
    """Inverse of ``Machine.to_dict`` (unknown keys ignored, so newer files still load)."""
    known = {f for f in Machine.__dataclass_fields__}
    kwargs = {k: v for k, v in d.items() if k in known}
    gkeys = set(GpuSpec.__dataclass_fields__)
    kwargs["gpus"] = tuple(GpuSpec(**{k: v for k, v in g.items() if k in gkeys}) for g in d.get("gpus", []))
    kwargs["cpu_flags"] = tuple(d.get("cpu_flags", ()))
    kwargs["notes"] = tuple(d.get("notes", ()))
    return Machine(**kwargs)
