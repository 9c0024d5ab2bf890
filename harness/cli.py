"""The ``moebench`` command line: assembles the command modules and owns the one exit path.

Commands live in ``harness/commands/<name>.py`` and only parse options, call the library and
print. Expected failures (``HarnessError``) become one line on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

import harness.commands
from harness import __version__
from harness.errors import HarnessError

app = typer.Typer(
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
    """Console-script entry point: run the app, turning HarnessError into one line and exit 2."""
    try:
        app(args=argv, standalone_mode=False)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("error: interrupted — nothing was written", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        raise
    sys.exit(0)
