"""Fixtures of the hydrofw-nmrformats tests: real files (read-only) and writable copies of them."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import nmrglue as ng
import numpy as np
import pytest


@pytest.fixture
def copy_real(real_data: Path, tmp_path: Path) -> Callable[[str], Path]:
    """Copy ``real_data/<rel>`` (file or folder) into ``tmp_path`` and return the copy."""

    def copy(rel: str) -> Path:
        src = real_data / rel
        dst = tmp_path / src.name
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy(src, dst)
        dst.chmod(0o755 if dst.is_dir() else 0o644)
        for p in dst.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        return dst

    return copy


def _nmrglue_bruker(path: Path) -> tuple[dict, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dic, data = ng.bruker.read(str(path))
    return dic, np.atleast_2d(data)


def _jcamp_value(path: Path, label: str) -> str:
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith(f"##{label}="):
            return line.split("=", 1)[1].split("$$")[0].strip().strip("<>")
    raise KeyError(label)


@pytest.fixture
def nmrglue_bruker() -> Callable[[Path], tuple[dict, np.ndarray]]:
    """nmrglue's reading of a Bruker experiment (rows always 2-D, its warnings silenced)."""
    return _nmrglue_bruker


@pytest.fixture
def jcamp_value() -> Callable[[Path, str], str]:
    """``jcamp_value(path, label)``: value of the first ``##label=`` by a plain text search
    (independent of the parser under test)."""
    return _jcamp_value
