"""A one-pass STREAM triad ``a = b + s*c``, compiled by numba when numba is installed.

Why not numpy alone: numpy has no fused multiply-add ufunc, so its triad is two passes
(``a = s*c`` then ``a += b``), cut into cache-sized blocks so that memory sees only what stream.c
makes it see. The traffic is right but the concurrency is not: stream.c's one loop keeps b, c and
a's write-allocate in flight together, each numpy pass keeps one or two. Where one core's
outstanding misses set the limit (a few cores, a VM on a large host) that costs 10-20%, and it is
not numpy's call overhead: the same two-pass blocked triad compiled with gcc -O3 reaches only
0.82-0.90 of the one-pass loop on the 2-core EPYC VM this project is developed on, at every block
size from 16 KiB to 1 MiB (``bench/probe_fidelity.py`` times it as a control in every run). A loop that numba
compiles over the same numpy arrays is the one-pass form; the blocked numpy triad remains the
fallback where numba is missing or fails, and the probe's settings say which one ran.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Triad = Callable[[np.ndarray, np.ndarray, np.ndarray, float], None]

_cache: dict[str, tuple[Triad | None, str]] = {}


def one_pass_triad() -> tuple[Triad | None, str]:
    """(kernel, what it is) or (None, why not). Compiled once per process, then cached.

    The kernel is checked against numpy on a small array before it is trusted: a miscompiled or
    mis-typed kernel must fall back, not produce a bandwidth for wrong work."""
    if "triad" not in _cache:
        _cache["triad"] = _compile()
    return _cache["triad"]


def _compile() -> tuple[Triad | None, str]:
    try:
        import numba  # noqa: PLC0415 - heavy import, only when the STREAM probe runs
    except Exception as exc:  # noqa: BLE001 - ImportError, or a broken install raising anything
        return None, f"numba not importable ({type(exc).__name__}): two-pass blocked numpy triad"
    try:
        signature = "void(float64[::1], float64[::1], float64[::1], float64)"

        @numba.njit(signature, nogil=True, cache=False)
        def triad(a, b, c, s):  # type: ignore[no-untyped-def]
            for i in range(a.shape[0]):
                a[i] = b[i] + s * c[i]

        if not getattr(triad, "signatures", None):  # NUMBA_DISABLE_JIT: a plain Python loop
            return None, "numba's JIT is disabled (NUMBA_DISABLE_JIT): two-pass blocked numpy triad"
        b = np.arange(1031, dtype=np.float64)
        c = np.linspace(-1.0, 1.0, 1031)
        a = np.empty_like(b)
        triad(a, b, c, 0.5)
        if not np.allclose(a, b + 0.5 * c, rtol=0, atol=1e-12):
            return None, "numba triad gave wrong values: two-pass blocked numpy triad"
    except Exception as exc:  # noqa: BLE001 - any compile failure means: use numpy
        return None, f"numba could not compile the triad ({type(exc).__name__}): two-pass blocked numpy triad"
    return triad, f"one-pass loop compiled by numba {numba.__version__}"
