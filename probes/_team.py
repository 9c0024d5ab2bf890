"""A team of worker threads, one pinned per CPU, that time work in lock-step.

Why threads and not processes: numpy releases the GIL inside every kernel on large arrays, so
threads run truly in parallel while the arrays stay in one address space. Each worker allocates
and first-touches its own arrays, so Linux places the pages on the worker's NUMA node. A barrier
starts every timed step; the step's time is from the first worker's start to the last worker's
end (what an OpenMP ``parallel for`` with an implicit barrier measures).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from probes.sources import Clock

Progress = Callable[[str, float, float], None]
# setup(index, cpu) -> state; step(state, step_name) runs one timed unit of work.
Setup = Callable[[int, int], Any]
Step = Callable[[Any, str], None]


def pin_to(cpu: int) -> bool:
    """Pin the calling thread to one CPU (Linux: pid 0 is the calling thread). False if refused."""
    try:
        os.sched_setaffinity(0, {cpu})
        return True
    except (OSError, AttributeError, ValueError):
        return False


class Team:
    """Run ``rounds`` x ``steps`` barrier-synchronised timed steps on one thread per CPU."""

    def __init__(self, cpus: Sequence[int], setup: Setup, step: Step, clock: Clock) -> None:
        self.cpus = tuple(cpus)
        self.setup, self.step, self.clock = setup, step, clock
        self.barrier = threading.Barrier(len(self.cpus))
        self.errors: list[BaseException] = []
        self.done = 0  # rounds finished by worker 0, for progress reporting

    def run(self, steps: Sequence[str], rounds: int, stage: str,
            progress: Progress | None = None) -> np.ndarray:
        """Start and end stamps, shape (rounds, len(steps), threads, 2). Re-raises a worker's error.

        On KeyboardInterrupt the barrier is broken, every worker leaves at its next step, and all
        are joined before the interrupt propagates: no thread outlives the call.
        """
        stamps = np.zeros((rounds, len(steps), len(self.cpus), 2))
        workers = [threading.Thread(target=self._work, args=(i, cpu, steps, rounds, stamps),
                                    name=f"moebench-{stage}-cpu{cpu}", daemon=True)
                   for i, cpu in enumerate(self.cpus)]
        for w in workers:
            w.start()
        try:
            self._wait(workers, stage, rounds, progress)
        except BaseException:
            self.barrier.abort()
            for w in workers:
                w.join()
            raise
        if self.errors:
            raise self.errors[0]
        return stamps

    def _wait(self, workers: list[threading.Thread], stage: str, rounds: int,
              progress: Progress | None) -> None:
        for w in workers:
            while w.is_alive():
                w.join(0.05)
                if progress is not None:
                    progress(stage, float(self.done), float(rounds))

    def _work(self, index: int, cpu: int, steps: Sequence[str], rounds: int,
              stamps: np.ndarray) -> None:
        try:
            pin_to(cpu)
            state = self.setup(index, cpu)
            self.barrier.wait()  # every worker has first-touched its arrays
            for r in range(rounds):
                for s, name in enumerate(steps):
                    self.barrier.wait()
                    t0 = self.clock.monotonic()
                    self.step(state, name)
                    stamps[r, s, index] = (t0, self.clock.monotonic())
                if index == 0:
                    self.done = r + 1
        except threading.BrokenBarrierError:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self.errors.append(exc)
            self.barrier.abort()


def step_seconds(stamps: np.ndarray) -> np.ndarray:
    """(rounds, steps) seconds: last worker's end minus first worker's start."""
    return stamps[..., 1].max(axis=2) - stamps[..., 0].min(axis=2)
