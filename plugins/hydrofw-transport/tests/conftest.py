"""Fixtures of the transport plugin tests: synthetic R(T) curves and the logs labs write."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest


def logistic_rt(
    t_k: np.ndarray, tc_k: float = 150.0, width_k: float = 3.0, slope: float = 0.004
) -> np.ndarray:
    """physics.md section 6: R = R_n(T) / (1 + exp(-(T - Tc)/w)), R_n = 1 + slope (T - Tc) ohm."""
    return (1.0 + slope * (t_k - tc_k)) / (1.0 + np.exp(-(t_k - tc_k) / width_k))


def triangle_sweeps(
    n_per_sweep: int = 400, n_sweeps: int = 2, low_k: float = 100.0, high_k: float = 200.0
) -> np.ndarray:
    """Cooling from ``high_k`` to ``low_k``, then warming, ... (``n_sweeps`` legs)."""
    legs = []
    for k in range(n_sweeps):
        leg = np.linspace(high_k, low_k, n_per_sweep)
        legs.append(leg if k % 2 == 0 else leg[::-1])
    return np.concatenate(legs)


@pytest.fixture
def write_log(tmp_path: Path) -> Callable[..., Path]:
    """Write a text log: ``write_log(name, header_lines, column_line, rows, sep)``."""

    def write(
        name: str,
        header: Sequence[str],
        columns: str | None,
        rows: Sequence[Sequence[object]],
        sep: str = "\t",
    ) -> Path:
        lines = list(header)
        if columns is not None:
            lines.append(columns)
        lines.extend(sep.join(str(v) for v in row) for row in rows)
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def cooling_warming() -> tuple[np.ndarray, np.ndarray]:
    """Two legs (cooling 200 -> 100 K, warming back), logistic R(T), 1 mOhm noise."""
    rng = np.random.default_rng(7)
    t = triangle_sweeps()
    return t, logistic_rt(t) + rng.normal(0.0, 1e-3, t.size)


@pytest.fixture
def rt_log(write_log: Callable[..., Path], cooling_warming: tuple[np.ndarray, np.ndarray]) -> Path:
    """A LabVIEW-like TSV log with a '#' header and elapsed time in seconds."""
    t, r = cooling_warming
    header = [
        "# SIM921 AC resistance bridge log (LabVIEW)",
        "# Start: 2024-05-01T12:00:00Z",
        "# Excitation: 100 uA",
        "# Frequency: 13.7 Hz",
        "# RANG 4",
        "# TCON 2",
    ]
    rows = [
        (f"{2.0 * i:.1f}", f"{a:.4f}", f"{b:+.6E}")
        for i, (a, b) in enumerate(zip(t, r, strict=True))
    ]
    return write_log("cell1_rt.tsv", header, "Time (s)\tT (K)\tR (Ohm)", rows)


@pytest.fixture
def rt_model() -> Callable[..., np.ndarray]:
    """The closed-form logistic R(T) of physics.md section 6 (see :func:`logistic_rt`)."""
    return logistic_rt


@pytest.fixture
def triangle() -> Callable[..., np.ndarray]:
    """Temperature legs alternating cooling and warming (see :func:`triangle_sweeps`)."""
    return triangle_sweeps
