"""Old import path, kept for users' scripts: the Python entry points are ``harness.app.api`` now."""

from harness.app.api import *  # noqa: F401,F403
from harness.app.api import check_run_inputs, check_scenario_numbers, load_model_arg, predict_on  # noqa: F401
