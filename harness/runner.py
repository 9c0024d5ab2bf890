"""Old import path, kept for users' scripts: the run pipeline is ``harness.app.run`` now."""

from harness.app.run import *  # noqa: F401,F403
from harness.app.run import (DEFAULT_MODELS, DEFAULT_QUANTS, predict_grid, run_benchmark,  # noqa: F401
                             store_result, write_outputs)
