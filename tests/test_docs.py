"""Documentation stays true: the schema reference is generated, every hook is documented with
its exact signature and tested, and the mkdocs site builds offline without warnings."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hydrofw.hookspec import HydrofwSpec
from hydrofw.schemadoc import render_markdown

ROOT = Path(__file__).resolve().parents[1]
HOOKS = [n for n, _ in inspect.getmembers(HydrofwSpec, inspect.isfunction)]


def test_schema_reference_is_up_to_date():
    committed = (ROOT / "docs" / "schemas.md").read_text()
    assert committed == render_markdown(), (
        "docs/schemas.md is stale: run `python -m hydrofw.schemadoc docs/schemas.md`"
    )


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_documented_with_exact_signature(hook):
    params = [p for p in inspect.signature(getattr(HydrofwSpec, hook)).parameters if p != "self"]
    heading = f"### `{hook}({', '.join(params)})`"
    guide = (ROOT / "docs" / "plugin-guide.md").read_text()
    assert heading in guide.splitlines()


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    tests += "\n".join(p.read_text() for p in (ROOT / "plugins").glob("*/tests/test_*.py"))
    assert re.search(rf"\b{hook}\b", tests.replace("HOOKS", "")) or f"def test_{hook}" in tests


def test_mkdocs_builds_strict(tmp_path):
    pytest.importorskip("mkdocs")
    res = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "s")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "s" / "schemas" / "index.html").exists()
