"""How close the numpy STREAM probe gets to compiled code on this machine.

Builds a small OpenMP STREAM-style reference in C (same four kernels, same byte counting, same
array size, same CPUs, first touch by the owning thread) with the C compiler found on PATH, then
alternates reference and probe runs and prints probe/reference for each kernel. Alternating in
one run keeps a noisy neighbour from favouring one side: both see the same conditions, and each
side's figure is its best pass over all rounds (STREAM's convention).

The reference also times a compiled *two-pass* triad in the numpy fallback's blocks (``a = s*c``
then ``a += b`` per block): the control that shows how much of a gap is the two-pass form itself
rather than numpy (probes/_fused.py). The line "triad kernel" says which triad the probe ran.

    python bench/probe_fidelity.py [--rounds 6] [--passes 10] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import statistics
import time
from dataclasses import replace

from probes._load import other_load, read_cpu_times
from probes.memory import KERNELS, SCALAR, plan_stream, run_stream
from probes.sources import RealSources
from probes.system import collect_system

CONTROL = "triad_two_pass"

C_SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
/* STREAM's kernels and byte counting (McCalpin, stream.c); best pass per kernel. */
int main(int argc, char **argv) {
    int passes = atoi(argv[1]);
    long n = atol(argv[2]), blk = atol(argv[3]);
    double s = SCALAR_VALUE, best[5] = {0, 0, 0, 0, 0};
    double *a = aligned_alloc(2097152, n * 8), *b = aligned_alloc(2097152, n * 8),
           *c = aligned_alloc(2097152, n * 8);
    #pragma omp parallel for schedule(static)
    for (long j = 0; j < n; j++) { a[j] = 1.0; b[j] = 2.0; c[j] = 0.0; }
    for (int k = 0; k < passes; k++) {
        double t[6];
        t[0] = omp_get_wtime();
        #pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++) c[j] = a[j];
        t[1] = omp_get_wtime();
        #pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++) b[j] = s * c[j];
        t[2] = omp_get_wtime();
        #pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++) c[j] = a[j] + b[j];
        t[3] = omp_get_wtime();
        #pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++) a[j] = b[j] + s * c[j];
        t[4] = omp_get_wtime();
        #pragma omp parallel
        {   /* control: the same triad as two passes per block, like the numpy fallback */
            int id = omp_get_thread_num(), nt = omp_get_num_threads();
            long lo = n / nt * id, hi = id == nt - 1 ? n : n / nt * (id + 1);
            for (long i = lo; i < hi; i += blk) {
                long e = i + blk < hi ? i + blk : hi;
                for (long j = i; j < e; j++) a[j] = s * c[j];
                for (long j = i; j < e; j++) a[j] = a[j] + b[j];
            }
        }
        t[5] = omp_get_wtime();
        double bytes[5] = {16.0 * n, 16.0 * n, 24.0 * n, 24.0 * n, 24.0 * n};
        for (int i = 0; i < 5; i++) {
            double bw = bytes[i] / (t[i + 1] - t[i]) / 1e9;
            if (bw > best[i]) best[i] = bw;
        }
    }
    printf("%f %f %f %f %f\n", best[0], best[1], best[2], best[3], best[4]);
    return a[n / 2] > 0 ? 0 : 1;
}
"""


def build_reference(workdir: Path) -> Path | None:
    """Compile the reference; None without a C compiler or OpenMP."""
    compiler = shutil.which(os.environ.get("CC", "")) or shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        return None
    src = workdir / "stream_ref.c"
    src.write_text(C_SOURCE.replace("SCALAR_VALUE", repr(SCALAR)))
    exe = workdir / "stream_ref"
    for flags in (["-O3", "-march=native"], ["-O3"]):
        done = subprocess.run([compiler, *flags, "-fopenmp", str(src), "-o", str(exe)],
                              capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return exe
    return None


def run_reference(exe: Path, cpus: tuple[int, ...], passes: int, elements: int,
                  block: int) -> dict[str, float]:
    """Best GB/s per kernel (and the two-pass control) from one run on exactly the probe's CPUs."""
    env = dict(os.environ, OMP_NUM_THREADS=str(len(cpus)), OMP_PROC_BIND="true",
               OMP_PLACES=",".join(f"{{{c}}}" for c in cpus))
    out = subprocess.run([str(exe), str(passes), str(elements), str(block)], capture_output=True,
                         text=True, env=env, check=True).stdout.split()
    return dict(zip((*KERNELS, CONTROL), map(float, out)))


def run_probe(plan) -> dict[str, float]:
    return {k: m.best for k, m in run_stream(plan).kernels.items()}


def measure(rounds: int, passes: int, quick: bool) -> dict:
    """Alternate reference and probe ``rounds`` times; best of each per kernel, and ratios."""
    system = collect_system()
    base = plan_stream(quick, system, RealSources())
    plan = replace(base, samples=1, passes=passes, seconds=None, node_cpus=())
    elements = plan.elements_per_thread * plan.threads
    with tempfile.TemporaryDirectory() as tmp:
        exe = build_reference(Path(tmp))
        if exe is None:
            return {"error": "no C compiler with OpenMP found: nothing to compare against"}
        ref_rounds, probe_rounds = [], []
        before, t0 = read_cpu_times(RealSources()), time.perf_counter()
        for _ in range(rounds):
            ref_rounds.append(run_reference(exe, plan.cpus, passes, elements, plan.block_elements))
            probe_rounds.append(run_probe(plan))
        busy = other_load(before, read_cpu_times(RealSources()), time.perf_counter() - t0)
    best_ref = {k: max(r[k] for r in ref_rounds) for k in (*KERNELS, CONTROL)}
    best_probe = {k: max(r[k] for r in probe_rounds) for k in KERNELS}
    return {"threads": plan.threads, "array_bytes": plan.array_bytes, "rounds": rounds,
            "triad_kernel": plan.triad_kernel, "block_bytes": plan.block_elements * 8,
            "control_two_pass_over_one_pass": best_ref[CONTROL] / best_ref["triad"],
            "passes": passes, "reference_gbs": best_ref, "probe_gbs": best_probe,
            "ratio": {k: best_probe[k] / best_ref[k] for k in KERNELS},
            "median_round_ratio": {k: statistics.median(p[k] / r[k] for p, r in
                                                        zip(probe_rounds, ref_rounds)) for k in KERNELS},
            "other_cpu_load": busy,
            "rounds_detail": {"reference": ref_rounds, "probe": probe_rounds}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--passes", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="the quick probe's array size")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.rounds, args.passes, args.quick)
    if args.json or "error" in result:
        print(json.dumps(result, indent=1))
        return 0 if "error" not in result else 2
    print(f"{result['threads']} threads, arrays of {result['array_bytes'] / 2**20:.0f} MiB, "
          f"{args.rounds} alternating rounds x {args.passes} passes (best pass of each side)")
    print(f"{'kernel':8} {'reference GB/s':>15} {'probe GB/s':>11} {'probe/ref':>10} "
          f"{'median of rounds':>17}")
    for k in KERNELS:
        print(f"{k:8} {result['reference_gbs'][k]:15.1f} {result['probe_gbs'][k]:11.1f} "
              f"{result['ratio'][k]:10.3f} {result['median_round_ratio'][k]:17.3f}")
    print(f"triad kernel: {result['triad_kernel']}")
    print(f"control: compiled two-pass triad in {result['block_bytes'] // 1024} KiB blocks / compiled "
          f"one-pass triad = {result['control_two_pass_over_one_pass']:.3f}")
    spread = max(r["triad"] for r in result["rounds_detail"]["reference"]) / \
        min(r["triad"] for r in result["rounds_detail"]["reference"])
    if spread > 1.15:
        print(f"note: the reference triad varied {spread:.2f}x between rounds (the host's bandwidth "
              "changed during the run): read the median of the paired rounds, not the best of each")
    busy = result["other_cpu_load"]
    if busy is not None and busy > 0.10:
        print(f"warning: other processes kept {busy:.0%} of the CPUs busy: ratios are unreliable")
    return 0


if __name__ == "__main__":
    sys.exit(main())
