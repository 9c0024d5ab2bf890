"""CLI commands, one module per command (or family of commands).

Each module defines ``register(app: typer.Typer) -> None``; ``harness.cli`` discovers every
module here, so adding a command never edits a shared file.
"""
