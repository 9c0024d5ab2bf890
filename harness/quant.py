"""Old import path, kept for users' scripts: quant recipes are ``harness.workload.quant`` now."""

from harness.workload.quant import *  # noqa: F401,F403
from harness.workload.quant import QuantRecipe, parse_quant  # noqa: F401
