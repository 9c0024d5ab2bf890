"""Measured GPU copy bandwidth through torch or cupy, when one of them is importable.

Device copy moves 2 bytes of traffic per byte copied (read + write); host-to-device uses pinned
host memory, the best case an engine that streams weights over PCIe can reach.
"""

from __future__ import annotations

import time
from typing import Any

COPY_BYTES = 256 << 20
REPEATS = 10


def measure_bandwidth(index: int) -> tuple[float | None, float | None]:
    """(device-to-device GB/s, host-to-device GB/s); (None, None) without torch or cupy."""
    for measure in (_with_torch, _with_cupy):
        try:
            found = measure(index)
        except Exception:  # noqa: BLE001 - an optional extra; the probe must never fail on it
            found = None
        if found is not None:
            return found
    return None, None


def _with_torch(index: int) -> tuple[float, float] | None:
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    rates = _torch_rates(torch, torch.device("cuda", index))
    torch.cuda.empty_cache()  # give the memory back: the report says how much is free
    return rates


def _torch_rates(torch: Any, dev: Any) -> tuple[float, float]:
    src = torch.empty(COPY_BYTES, dtype=torch.uint8, device=dev)
    dst = torch.empty_like(src)
    host = torch.empty(COPY_BYTES, dtype=torch.uint8, pin_memory=True)
    sync = lambda: torch.cuda.synchronize(dev)  # noqa: E731
    device = 2 * COPY_BYTES / _best(lambda: dst.copy_(src), sync) / 1e9
    h2d = COPY_BYTES / _best(lambda: dst.copy_(host, non_blocking=True), sync) / 1e9
    return round(device, 1), round(h2d, 1)


def _with_cupy(index: int) -> tuple[float, float] | None:
    try:
        import cupy  # noqa: PLC0415
    except ImportError:
        return None
    with cupy.cuda.Device(index):
        src = cupy.empty(COPY_BYTES, dtype=cupy.uint8)
        dst = cupy.empty_like(src)
        host = cupy.cuda.alloc_pinned_memory(COPY_BYTES)
        sync = cupy.cuda.Device(index).synchronize
        device = 2 * COPY_BYTES / _best(lambda: dst.__setitem__(slice(None), src), sync) / 1e9
        h2d = COPY_BYTES / _best(lambda: dst.data.copy_from_host(host.ptr, COPY_BYTES), sync) / 1e9
    return round(device, 1), round(h2d, 1)


def _best(op: Any, sync: Any) -> float:
    """Shortest of REPEATS timed runs (after one warm-up), in seconds."""
    op()
    sync()
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        op()
        sync()
        best = min(best, time.perf_counter() - t0)
    return max(best, 1e-9)
