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
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from probes.sources import Clock

Progress = Callable[[str, float, float], None]
# setup(index, cpu) -> state; step(state, step_name) runs one timed unit of work.
Setup = Callable[[int, int], Any]
Step = Callable[[Any, str], None]
POLL_SECONDS = 0.02


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
        self.round_end = threading.Barrier(len(self.cpus), action=self._decide)
        self.ready = threading.Barrier(len(self.cpus), action=self._start)
        self.errors: list[BaseException] = []
        self.done = 0  # rounds every worker has finished
        self.stop = False
        self.seconds: float | None = None
        self.deadline: float | None = None
        self.min_rounds = 1

    def run(self, steps: Sequence[str], rounds: int, stage: str,
            progress: Progress | None = None, seconds: float | None = None,
            min_rounds: int = 1) -> np.ndarray:
        """Start and end stamps, shape (rounds done, len(steps), threads, 2).

        With ``seconds``, no new round starts once that much time has passed and ``min_rounds``
        are done, so a busy machine makes the probe shorter, not longer. A worker's error is
        re-raised here. On KeyboardInterrupt the barriers are broken, every worker leaves at its
        next step, and all are joined before the interrupt propagates: no thread outlives the call.
        """
        self.seconds = seconds
        self.min_rounds = min_rounds
        stamps = np.zeros((rounds, len(steps), len(self.cpus), 2))
        workers = [threading.Thread(target=self._work, args=(i, cpu, steps, rounds, stamps),
                                    name=f"moebench-{stage}-cpu{cpu}", daemon=True)
                   for i, cpu in enumerate(self.cpus)]
        try:
            for w in workers:
                w.start()
            self._wait(workers, stage, rounds, seconds, progress)
        except BaseException:
            self._abort()
            for w in workers:
                if w.ident is not None:
                    w.join()
            raise
        if self.errors:
            raise self.errors[0]
        return stamps[:self.done]

    def _abort(self) -> None:
        for barrier in (self.ready, self.barrier, self.round_end):
            barrier.abort()

    def _start(self) -> None:
        """Runs once, when every worker has set up: the time budget starts now."""
        if self.seconds is not None:
            self.deadline = self.clock.monotonic() + self.seconds

    def _decide(self) -> None:
        """Runs once per round, in one worker, while the others wait: stop here or go on."""
        self.done += 1
        if self.deadline is not None and self.done >= self.min_rounds:
            self.stop = self.clock.monotonic() >= self.deadline

    def _wait(self, workers: list[threading.Thread], stage: str, rounds: int,
              seconds: float | None, progress: Progress | None) -> None:
        """Join the workers, reporting progress as a fraction of rounds or of time, whichever
        is further along (``progress(stage, fraction, 1.0)``)."""
        start = self.clock.monotonic() if progress is not None and seconds else 0.0
        while any(w.is_alive() for w in workers):
            # sleep, not join(timeout): a Ctrl-C landing inside join() can leave CPython's
            # thread state inconsistent (is_alive() stays True after the thread has ended)
            time.sleep(POLL_SECONDS)
            if progress is not None:
                by_time = (self.clock.monotonic() - start) / seconds if seconds else 0.0
                progress(stage, min(1.0, max(self.done / rounds, by_time)), 1.0)

    def _work(self, index: int, cpu: int, steps: Sequence[str], rounds: int,
              stamps: np.ndarray) -> None:
        try:
            pin_to(cpu)
            state = self.setup(index, cpu)
            self.ready.wait()  # every worker has first-touched its arrays
            for r in range(rounds):
                for s, name in enumerate(steps):
                    self.barrier.wait()
                    t0 = self.clock.monotonic()
                    self.step(state, name)
                    stamps[r, s, index] = (t0, self.clock.monotonic())
                self.round_end.wait()
                if self.stop:
                    return
        except threading.BrokenBarrierError:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self.errors.append(exc)
            self._abort()


def step_seconds(stamps: np.ndarray) -> np.ndarray:
    """(rounds, steps) seconds: last worker's end minus first worker's start."""
    return stamps[..., 1].max(axis=2) - stamps[..., 0].min(axis=2)
