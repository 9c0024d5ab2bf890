"""Old import path, kept for users' scripts: result documents are ``harness.documents.result`` now."""

from harness.documents.result import *  # noqa: F401,F403
from harness.documents.result import Result, build_result, dumps, load_result, save_result  # noqa: F401
