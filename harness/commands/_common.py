"""Small helpers shared by the command modules: JSON printing, rich console, progress bars."""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from harness.documents.result import dumps
from harness.errors import HarnessError

console = Console()
err_console = Console(stderr=True)


def print_json(data: Any) -> None:
    sys.stdout.write(dumps(data))


@contextlib.contextmanager
def progress_bars(enabled: bool = True) -> Iterator[Callable[[str, float, float], None]]:
    """A ``progress(stage, done, total)`` callback drawing one rich bar per stage on stderr."""
    if not enabled or not err_console.is_terminal:
        yield lambda stage, done, total: None
        return
    with Progress(TextColumn("{task.description:<18}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=err_console, transient=True) as bars:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: float, total: float) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total or 1)
            bars.update(tasks[stage], completed=done, total=total or 1)

        yield update


def one_machine(values: list[str]) -> str:
    """The one ``--machine`` a command takes; repeating it is refused rather than the last one used."""
    if len(values) != 1:
        raise HarnessError(f"--machine was given {len(values)} times ({', '.join(values)}): this command takes one "
                           "— compare machines with `moebench plan --machines A,B` or `moebench compare`")
    return values[0]


def fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"
