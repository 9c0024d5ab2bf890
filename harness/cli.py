"""The ``moebench`` command line: assembles the command modules and owns the one exit path.

Commands live in ``harness/commands/<name>.py`` and only parse options, call the library and
print. Expected failures (``HarnessError``) become one line on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import sys
import threading

import typer
from typer.core import TyperGroup

try:  # typer >= 0.20 vendors its own click; older typer uses the click package
    from typer._click import exceptions as _cx
    from typer._click import echo as _echo
except ImportError:  # pragma: no cover
    from click import echo as _echo
    from click import exceptions as _cx

import harness.commands
from harness import __version__
from harness.errors import HarnessError


class _Interrupted(BaseException):
    """Ctrl-C inside a command, carried past typer (which would turn it into a silent exit 130)."""


class _HarnessGroup(TyperGroup):
    """The one exit path: an expected failure becomes one line on stderr and exit code 2."""

    def invoke(self, ctx):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise _Interrupted() from exc

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                              standalone_mode=False, **extra)
        except HarnessError as exc:
            _fail(str(exc), exc.exit_code)
        except _NO_ARGS_HELP as exc:
            _echo(exc.ctx.get_help() if exc.ctx else str(exc))
            sys.exit(0)
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except _cx.UsageError as exc:
            hint = f" — see '{exc.ctx.command_path} --help'" if exc.ctx else ""
            _fail(f"{exc.format_message()}{hint}", 2)
        except _cx.ClickException as exc:
            _fail(exc.format_message(), 2)
        except (_Interrupted, KeyboardInterrupt, typer.Abort):
            _interrupted()
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


_NO_ARGS_HELP = getattr(_cx, "NoArgsIsHelpError", ())


# Characters that would break the one line or drive the terminal (escape sequences, bidi overrides)
# when a message quotes what the user's file holds; they are shown escaped instead.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def one_line(message: str) -> str:
    """``message`` as one printable line: whitespace runs to one space, control characters escaped."""
    text = " ".join(str(message).split())
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _fail(message: str, code: int) -> None:
    _echo(f"error: {one_line(message)}", err=True)
    sys.exit(code)


def _interrupted() -> None:
    """Ctrl-C: one line and exit 130. Outputs are written atomically, so nothing is half written."""
    _echo("error: interrupted — no file was left half-written", err=True)
    sys.exit(130)


def _leave_now_if_workers_linger(code: int) -> None:
    """After Ctrl-C a probe's worker thread (a numpy kernel) may still run; Python would wait for
    it at exit, so the process leaves at once instead. Only the console script does this: inside
    another program (a test's CliRunner) the threads are not ours to abandon."""
    workers = [t for t in threading.enumerate()
               if t is not threading.main_thread() and t.is_alive() and not t.daemon]
    if code != 130 or not workers:
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(130)


app = typer.Typer(
    cls=_HarnessGroup,
    name="moebench",
    help="Probe this machine and predict how fast full-size MoE models (DeepSeek-V3/R1 671B) run on it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"moebench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """moebench: simulated hardware-in-the-loop benchmark for MoE inference."""


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(harness.commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"harness.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        app(args=argv, prog_name="moebench")
    except SystemExit as exc:
        _leave_now_if_workers_linger(exc.code if isinstance(exc.code, int) else 0)
        raise
