"""Old import path, kept for users' scripts: ``validate`` is ``harness.app.validate`` now."""

from harness.app.validate import validate  # noqa: F401
