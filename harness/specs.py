"""Old import path, kept for users' scripts: machine spec files are ``harness.documents`` now."""

from harness.documents.machines import load_machine, machine_ids, parse_machine_text  # noqa: F401
from harness.documents.specs import machine_from_probe, machine_from_record, parse_spec  # noqa: F401
