"""The NVML seam: a small query interface, and its real implementation over pynvml.

``collect_gpus`` asks for fields by name; the real implementation maps each name to one pynvml
call and turns NVML's "not supported" errors into None. Tests pass a fake that answers the same
names from real ``nvidia-smi -q`` captures.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

FIELDS = (
    "name", "uuid", "memory_total_bytes", "memory_free_bytes", "bus_width_bits",
    "max_memory_clock_mhz", "sm_clock_max_mhz", "multiprocessor_count", "compute_capability",
    "pcie_gen_max", "pcie_gen_current", "pcie_width_max", "pcie_width_current", "power_limit_w",
    "temperature_c", "ecc_enabled", "mig_enabled", "numa_node", "nvlink_version", "nvlink_links",
)


class NvmlUnavailable(Exception):
    """NVML cannot be used on this machine; the message is the reason shown to the user."""


class Nvml(Protocol):
    """What the GPU probe needs from NVML."""

    def init(self) -> None:
        """Start NVML; raise NvmlUnavailable(reason) when it cannot be."""

    def shutdown(self) -> None:
        """Release NVML."""

    def driver_version(self) -> str | None: ...

    def cuda_version(self) -> str | None:
        """The CUDA version the driver supports, e.g. '12.7'."""

    def device_count(self) -> int: ...

    def query(self, index: int, field: str) -> Any:
        """One of ``FIELDS`` for GPU ``index``; None when the GPU does not report it."""

    def link(self, a: int, b: int) -> str | None:
        """How GPU a reaches GPU b, in ``nvidia-smi topo -m`` words: 'NV12' (12 bonded
        NVLinks), 'PIX', 'PXB', 'PHB', 'NODE' or 'SYS'; None when unknown."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class PynvmlNvml:
    """NVML through nvidia-ml-py (``import pynvml``)."""

    def __init__(self) -> None:
        self._nv: Any = None

    def init(self) -> None:
        try:
            import pynvml  # noqa: PLC0415 - optional at run time
        except ImportError as exc:
            raise NvmlUnavailable("nvidia-ml-py (pynvml) not installed") from exc
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError_LibraryNotFound as exc:
            raise NvmlUnavailable("NVML library not found (no NVIDIA driver installed)") from exc
        except pynvml.NVMLError_DriverNotLoaded as exc:
            raise NvmlUnavailable("NVIDIA driver not loaded") from exc
        except pynvml.NVMLError_NoPermission as exc:
            raise NvmlUnavailable("no permission to use NVML") from exc
        except pynvml.NVMLError as exc:
            raise NvmlUnavailable(f"NVML failed to start: {exc}") from exc
        self._nv = pynvml

    def shutdown(self) -> None:
        if self._nv is not None:
            try:
                self._nv.nvmlShutdown()
            except self._nv.NVMLError:
                pass

    def driver_version(self) -> str | None:
        return self._call(lambda nv: _text(nv.nvmlSystemGetDriverVersion()))

    def cuda_version(self) -> str | None:
        def read(nv: Any) -> str:
            v = nv.nvmlSystemGetCudaDriverVersion()  # e.g. 12070
            return f"{v // 1000}.{v % 1000 // 10}"
        return self._call(read)

    def device_count(self) -> int:
        return self._call(lambda nv: int(nv.nvmlDeviceGetCount())) or 0

    def query(self, index: int, field: str) -> Any:
        getter = _GETTERS.get(field)
        if getter is None:
            return None
        return self._call(lambda nv: getter(nv, nv.nvmlDeviceGetHandleByIndex(index)))

    def link(self, a: int, b: int) -> str | None:
        def read(nv: Any) -> str | None:
            ha, hb = nv.nvmlDeviceGetHandleByIndex(a), nv.nvmlDeviceGetHandleByIndex(b)
            links = _nvlinks_between(nv, ha, hb)
            if links:
                return f"NV{links}"
            level = nv.nvmlDeviceGetTopologyCommonAncestor(ha, hb)
            return _TOPOLOGY_WORDS.get(int(level))
        return self._call(read)

    def _call(self, fn: Callable[[Any], Any]) -> Any:
        try:
            return fn(self._nv)
        except (self._nv.NVMLError, AttributeError, TypeError, ValueError):
            return None


# nvmlGpuTopologyLevel_t -> the words of `nvidia-smi topo -m`'s legend.
_TOPOLOGY_WORDS = {0: "X", 10: "PIX", 20: "PXB", 30: "PHB", 40: "NODE", 50: "SYS"}


def _active_links(nv: Any, handle: Any) -> list[int]:
    active = []
    for link in range(nv.NVML_NVLINK_MAX_LINKS):
        try:
            if nv.nvmlDeviceGetNvLinkState(handle, link) == nv.NVML_FEATURE_ENABLED:
                active.append(link)
        except nv.NVMLError:
            break  # links are numbered from 0; the first unsupported one ends the list
    return active


def _nvlinks_between(nv: Any, ha: Any, hb: Any) -> int:
    """NVLinks from a that end at b, or (through an NVSwitch) all of a's active links."""
    target = _text(nv.nvmlDeviceGetPciInfo(hb).busId).lower()
    direct = switched = 0
    for link in _active_links(nv, ha):
        try:
            if nv.nvmlDeviceGetNvLinkRemoteDeviceType(ha, link) == nv.NVML_NVLINK_DEVICE_TYPE_SWITCH:
                switched += 1
                continue
        except (nv.NVMLError, AttributeError):
            pass
        if _text(nv.nvmlDeviceGetNvLinkRemotePciInfo(ha, link).busId).lower() == target:
            direct += 1
    return direct or switched


def _nvlink_version(nv: Any, handle: Any) -> int | None:
    active = _active_links(nv, handle)
    return int(nv.nvmlDeviceGetNvLinkVersion(handle, active[0])) if active else None


def _mode_on(pair: Any) -> bool:
    return bool(pair[0] if isinstance(pair, (tuple, list)) else pair)


_GETTERS: dict[str, Callable[[Any, Any], Any]] = {
    "name": lambda nv, h: _text(nv.nvmlDeviceGetName(h)),
    "uuid": lambda nv, h: _text(nv.nvmlDeviceGetUUID(h)),
    "memory_total_bytes": lambda nv, h: int(nv.nvmlDeviceGetMemoryInfo(h).total),
    "memory_free_bytes": lambda nv, h: int(nv.nvmlDeviceGetMemoryInfo(h).free),
    "bus_width_bits": lambda nv, h: int(nv.nvmlDeviceGetMemoryBusWidth(h)),
    "max_memory_clock_mhz": lambda nv, h: int(nv.nvmlDeviceGetMaxClockInfo(h, nv.NVML_CLOCK_MEM)),
    "sm_clock_max_mhz": lambda nv, h: int(nv.nvmlDeviceGetMaxClockInfo(h, nv.NVML_CLOCK_SM)),
    "multiprocessor_count": lambda nv, h: int(nv.nvmlDeviceGetAttributes(h).multiprocessorCount),
    "compute_capability": lambda nv, h: "%d.%d" % tuple(nv.nvmlDeviceGetCudaComputeCapability(h)),
    "pcie_gen_max": lambda nv, h: int(nv.nvmlDeviceGetMaxPcieLinkGeneration(h)),
    "pcie_gen_current": lambda nv, h: int(nv.nvmlDeviceGetCurrPcieLinkGeneration(h)),
    "pcie_width_max": lambda nv, h: int(nv.nvmlDeviceGetMaxPcieLinkWidth(h)),
    "pcie_width_current": lambda nv, h: int(nv.nvmlDeviceGetCurrPcieLinkWidth(h)),
    "power_limit_w": lambda nv, h: nv.nvmlDeviceGetEnforcedPowerLimit(h) / 1000.0,
    "temperature_c": lambda nv, h: int(nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU)),
    "ecc_enabled": lambda nv, h: _mode_on(nv.nvmlDeviceGetEccMode(h)),
    "mig_enabled": lambda nv, h: _mode_on(nv.nvmlDeviceGetMigMode(h)),
    "numa_node": lambda nv, h: int(nv.nvmlDeviceGetNumaNodeId(h)),
    "nvlink_version": _nvlink_version,
    "nvlink_links": lambda nv, h: len(_active_links(nv, h)) or None,
}
