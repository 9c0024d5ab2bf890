"""The README's figures are the ones the tool computes today (bench/readme_figures.py writes them),
and the README stands alone: no pointer into files a user does not have."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _figures():
    spec = importlib.util.spec_from_file_location("readme_figures", ROOT / "bench" / "readme_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_readme_blocks_are_current():
    figures = _figures()
    readme = (ROOT / "README.md").read_text("utf-8")
    held = figures.blocks(readme)
    assert set(held) == set(figures.GENERATORS), "a generated block is missing from README.md"
    stale = [name for name, body in figures.generated().items() if held[name] != body]
    assert stale == [], f"README figures drifted in {stale}: run `python bench/readme_figures.py --write README.md`"


def test_readme_links_resolve_inside_the_repository():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "../shared" not in readme
    for target in re.findall(r"\]\(([^)#:]+)\)", readme):
        assert (ROOT / target).exists(), target
    for doc in ("spec-files.md", "result-schema.md", "calibration-csv.md", "engine-profiles.md"):
        assert (ROOT / "docs" / doc).is_file()
    assert (ROOT / "CHANGES.md").is_file()
