"""Setting the BLAS library's own thread count, so that our pinned workers each run BLAS alone.

numpy exposes no API for this; OpenBLAS (which numpy's wheels bundle) exports
``*openblas_set_num_threads*``. We find the loaded library in /proc/self/maps and call it through
ctypes. When no known library is found the caller falls back to letting BLAS thread itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
from collections.abc import Iterator
from typing import Any

from probes.sources import RealSources, Sources

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
            "openblas_get_num_threads64_", "openblas_get_num_threads")


def _openblas(sources: Sources) -> ctypes.CDLL | None:
    maps = sources.read_text("/proc/self/maps") or ""
    paths = sorted({line.split()[-1] for line in maps.splitlines()
                    if "openblas" in line.lower() and line.split()[-1].startswith("/")})
    for path in paths:
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def _symbol(lib: ctypes.CDLL, names: tuple[str, ...]) -> Any:
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            return fn
    return None


@contextlib.contextmanager
def single_threaded_blas(sources: Sources | None = None) -> Iterator[bool]:
    """Within the block BLAS runs in the calling thread only; yields False when not possible."""
    importlib.import_module("numpy")  # loads the BLAS library this looks for

    lib = _openblas(sources or RealSources())
    setter = _symbol(lib, _SETTERS) if lib else None
    getter = _symbol(lib, _GETTERS) if lib else None
    if setter is None or getter is None:
        yield False
        return
    setter.argtypes = [ctypes.c_int]
    before = int(getter())
    setter(1)
    try:
        yield True
    finally:
        setter(before)
