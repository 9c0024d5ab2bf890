"""The one error type for expected failures (bad input, unreadable files, unreachable stores).

Library code raises ``HarnessError("what is wrong — how to fix it")``; the CLI prints it as one
line on stderr and exits 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class HarnessError(Exception):
    """An expected failure with a one-line, user-facing message."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))
