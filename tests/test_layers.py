"""The layers of harness/ hold: import-linter's contracts in pyproject.toml, run as a test, so an
import cycle or an upward import cannot come back."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]

# Function-level imports kept on purpose: each defers a heavy or optional third-party package to
# the one code path that needs it (CLI start-up and the store stay light without them).
LAZY_OK = {"matplotlib", "matplotlib.figure", "matplotlib.patches", "pandas", "gguf", "numba", "torch", "cupy",
           "pynvml"}


def test_import_linter_contracts_are_kept():
    """In a subprocess: import-linter reconfigures logging, which would mute other tests' loggers."""
    code = ("import sys; from importlinter.cli import lint_imports; "
            f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r}, no_cache=True, no_logo=True))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_function_level_imports_only_for_heavy_optional_packages():
    found = []
    for path in [*ROOT.glob("harness/**/*.py"), *ROOT.glob("probes/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and inner.module not in LAZY_OK:
                        found.append(f"{path.relative_to(ROOT)}:{inner.lineno} from {inner.module}")
                    elif isinstance(inner, ast.Import):
                        found += [f"{path.relative_to(ROOT)}:{inner.lineno} import {a.name}" for a in inner.names
                                  if a.name not in LAZY_OK]
    assert found == []


def test_no_module_over_400_lines():
    long = [f"{p.relative_to(ROOT)}: {n}" for p in [*ROOT.glob("harness/**/*.py"), *ROOT.glob("probes/**/*.py")]
            if (n := len(p.read_text("utf-8").splitlines())) > 400]
    assert long == []
