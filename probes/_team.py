"""A team of workers, one pinned per CPU, that time work in lock-step.

Each worker allocates and first-touches its own arrays, so Linux places the pages on the
worker's NUMA node. A barrier starts every timed step; the step's time is from the first
worker's start to the last worker's end (what an OpenMP ``parallel for`` with its implicit
barrier measures).

Workers are threads on small machines: numpy releases the GIL inside every kernel on large
arrays, so threads run truly in parallel and tests can drive them with a fake clock. On large
machines they are forked processes: every ufunc or BLAS call takes the GIL briefly to start, and
with dozens of threads those moments add up to a queue that would make the probe measure the
GIL instead of the memory. ``perf_counter`` is CLOCK_MONOTONIC, comparable across processes.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import signal
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
PROCESS_THRESHOLD = 8  # more workers than this: processes instead of threads
DONE, STOP, DEADLINE, READY_VALUE = 0, 1, 2, 3  # slots of the shared control array


def pin_to(cpu: int) -> bool:
    """Pin the calling thread (or process) to one CPU. False if the OS refused."""
    try:
        os.sched_setaffinity(0, {cpu})
        return True
    except (OSError, AttributeError, ValueError):
        return False


def use_processes(workers: int) -> bool:
    """Whether a team of this size should run as processes (see the module docstring)."""
    return workers > PROCESS_THRESHOLD and hasattr(os, "fork")


def _array(shape: tuple[int, ...], shared: bool) -> np.ndarray:
    """Zeros; in memory that forked children write and the parent reads when ``shared``."""
    if not shared:
        return np.zeros(shape)
    size = int(np.prod(shape)) * 8
    return np.frombuffer(mmap.mmap(-1, max(size, 8)), dtype=np.float64, count=int(np.prod(shape))).reshape(shape)


class Team:
    """Run ``rounds`` x ``steps`` barrier-synchronised timed steps on one worker per CPU."""

    def __init__(self, cpus: Sequence[int], setup: Setup, step: Step, clock: Clock,
                 processes: bool = False, on_ready: Callable[[], float | None] | None = None) -> None:
        self.cpus = tuple(cpus)
        self.setup, self.step, self.clock = setup, step, clock
        self.ctx = multiprocessing.get_context("fork") if processes else None
        make = self.ctx.Barrier if self.ctx else threading.Barrier
        n = len(self.cpus)
        self.ready = make(n, action=self._start)
        self.barrier = make(n)
        self.round_end = make(n, action=self._decide)
        self.control = _array((4,), processes)
        self.control[DEADLINE] = np.nan
        self.control[READY_VALUE] = np.nan
        self.on_ready = on_ready  # measured once, when every worker has set up (in one of them)
        self.errors: Any = self.ctx.SimpleQueue() if self.ctx else []
        self.seconds: float | None = None
        self.min_rounds = 1

    @property
    def done(self) -> int:
        """Rounds every worker has finished."""
        return int(self.control[DONE])

    @property
    def ready_value(self) -> float | None:
        """What ``on_ready`` returned (None when it was not given or returned None)."""
        value = float(self.control[READY_VALUE])
        return None if np.isnan(value) else value

    def run(self, steps: Sequence[str], rounds: int, stage: str,
            progress: Progress | None = None, seconds: float | None = None,
            min_rounds: int = 1) -> np.ndarray:
        """Start and end stamps, shape (rounds done, len(steps), workers, 2).

        With ``seconds``, no new round starts once that much time has passed and ``min_rounds``
        are done, so a busy machine makes the probe shorter, not longer. A worker's error is
        re-raised here. On KeyboardInterrupt the barriers are broken, every worker leaves at its
        next step, and all are joined before the interrupt propagates: no worker outlives the call.
        """
        self.seconds, self.min_rounds = seconds, min_rounds
        stamps = _array((rounds, len(steps), len(self.cpus), 2), self.ctx is not None)
        workers = [self._worker(i, cpu, steps, rounds, stamps, stage)
                   for i, cpu in enumerate(self.cpus)]
        try:
            for w in workers:
                w.start()
            self._wait(workers, stage, rounds, seconds, progress)
        except BaseException:
            self._abort()
            self._join(workers)
            raise
        self._raise_errors(workers)
        return np.array(stamps[:self.done])

    def _worker(self, index: int, cpu: int, steps: Sequence[str], rounds: int,
                stamps: np.ndarray, stage: str) -> Any:
        kind = self.ctx.Process if self.ctx else threading.Thread
        return kind(target=self._work, args=(index, cpu, steps, rounds, stamps),
                    name=f"moebench-{stage.replace(' ', '-')}-cpu{cpu}", daemon=True)

    def _wait(self, workers: list[Any], stage: str, rounds: int,
              seconds: float | None, progress: Progress | None) -> None:
        """Wait for the workers, reporting progress as a fraction of rounds or of time, whichever
        is further along (``progress(stage, fraction, 1.0)``)."""
        start = self.clock.monotonic() if progress is not None and seconds else 0.0
        while any(w.is_alive() for w in workers):
            # sleep, not join(timeout): a Ctrl-C landing inside join() can leave CPython's
            # thread state inconsistent (is_alive() stays True after the thread has ended)
            time.sleep(POLL_SECONDS)
            if progress is not None:
                by_time = (self.clock.monotonic() - start) / seconds if seconds else 0.0
                progress(stage, min(1.0, max(self.done / rounds, by_time)), 1.0)

    def _join(self, workers: list[Any]) -> None:
        for w in workers:
            if getattr(w, "ident", None) is None and getattr(w, "pid", None) is None:
                continue  # never started
            w.join(30 if self.ctx else None)
            if self.ctx and w.is_alive():
                w.terminate()
                w.join()

    def _raise_errors(self, workers: list[Any]) -> None:
        if self.ctx is None:
            if self.errors:
                raise self.errors[0]
            return
        if not self.errors.empty():
            raise self.errors.get()
        dead = [w for w in workers if w.exitcode not in (0, None)]
        if dead:
            raise RuntimeError(f"probe worker {dead[0].name} died (exit code {dead[0].exitcode})")

    def _abort(self) -> None:
        for barrier in (self.ready, self.barrier, self.round_end):
            barrier.abort()

    def _start(self) -> None:
        """Runs once, when every worker has set up: the time budget starts now."""
        if self.on_ready is not None:
            value = self.on_ready()
            self.control[READY_VALUE] = np.nan if value is None else value
        if self.seconds is not None:
            self.control[DEADLINE] = self.clock.monotonic() + self.seconds

    def _decide(self) -> None:
        """Runs once per round, in one worker, while the others wait: stop here or go on."""
        self.control[DONE] += 1
        deadline = self.control[DEADLINE]
        if not np.isnan(deadline) and self.control[DONE] >= self.min_rounds:
            self.control[STOP] = float(self.clock.monotonic() >= deadline)

    def _work(self, index: int, cpu: int, steps: Sequence[str], rounds: int,
              stamps: np.ndarray) -> None:
        if self.ctx is not None:  # the parent decides what Ctrl-C does; children just obey it
            signal.signal(signal.SIGINT, signal.SIG_IGN)
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
                if self.control[STOP]:
                    return
        except threading.BrokenBarrierError:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self._report(exc)
            self._abort()

    def _report(self, exc: BaseException) -> None:
        if self.ctx is None:
            self.errors.append(exc)
            return
        try:
            self.errors.put(exc)
        except Exception:  # noqa: BLE001 - an unpicklable exception: send its text
            self.errors.put(RuntimeError(f"{type(exc).__name__}: {exc}"))


def step_seconds(stamps: np.ndarray) -> np.ndarray:
    """(rounds, steps) seconds: last worker's end minus first worker's start."""
    return stamps[..., 1].max(axis=2) - stamps[..., 0].min(axis=2)
