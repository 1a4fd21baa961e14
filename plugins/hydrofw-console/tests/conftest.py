"""Sample files of the two packaged console descriptions, written by the tests themselves.

Both hold a synthetic FID s(t) = A exp(-t/T2) exp(2 pi i f t) with known parameters, so the
values read back can be compared with the closed form.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

TABLETOP = {
    "freq_mhz": 120.125,
    "dwell_us": 2.0,
    "points": 512,
    "delays_ms": [0.1, 0.2, 0.4, 0.8],
    "scans": 64,
    "gain": 30,
    "temp_c": -12.5,
    "scale": 0.5,
    "t2_s": 200e-6,
    "offset_hz": 5e3,
}
SPINBOX = {
    "freq_hz": 8474000.0,
    "bw_khz": 500.0,
    "points": 300,
    "averages": 20000,
    "temperature_k": 295.0,
    "t2_s": 50e-6,
    "offset_hz": -20e3,
}


def fid(n: int, dwell_s: float, t2_s: float, offset_hz: float, amplitude: float) -> np.ndarray:
    """A exp(-t/T2) exp(2 pi i f t) sampled at k * dwell."""
    t = np.arange(n) * dwell_s
    return amplitude * np.exp(-t / t2_s) * np.exp(2j * np.pi * offset_hz * t)


def write_tabletop(folder: Path, stem: str = "run7") -> tuple[Path, np.ndarray]:
    """``stem.hdr`` + ``stem.dat``; returns the header path and the integer FIDs (rows)."""
    p = TABLETOP
    folder.mkdir(parents=True, exist_ok=True)
    rows = len(p["delays_ms"])
    data = np.stack(
        [
            np.round(
                fid(
                    p["points"],
                    p["dwell_us"] * 1e-6,
                    p["t2_s"],
                    p["offset_hz"],
                    1e6 * np.exp(-d * 1e-3 / 1e-3),
                )
            )
            for d in p["delays_ms"]
        ]
    )
    header = (
        "\n".join(
            [
                "# TABLETOP-NMR v2",
                "nucleus = 1H",
                f"freq = {p['freq_mhz']}",
                f"dwell = {p['dwell_us']}",
                f"points = {p['points']}",
                f"n_delays = {rows}",
                "delays = " + ", ".join(str(d) for d in p["delays_ms"]),
                f"scans = {p['scans']}",
                f"gain = {p['gain']}",
                f"temp = {p['temp_c']}",
                f"scale = {p['scale']}",
                "date = 2024-08-27 14:03:11",
                "sequence = hahn_echo",
            ]
        )
        + "\n"
    )
    (folder / f"{stem}.hdr").write_text(header)
    interleaved = np.empty((rows, p["points"], 2), dtype=">i4")
    interleaved[..., 0] = data.real
    interleaved[..., 1] = data.imag
    (folder / f"{stem}.dat").write_bytes(interleaved.tobytes())
    return folder / f"{stem}.hdr", data


def write_spinbox(path: Path) -> tuple[Path, np.ndarray]:
    """One ``.sbx`` file; returns its path and the float32 FID."""
    p = SPINBOX
    data = fid(p["points"], 1.0 / (p["bw_khz"] * 1e3), p["t2_s"], p["offset_hz"], 3.5)
    data = data.astype(np.complex64)
    header = (
        "\n".join(
            [
                "SPINBOX acquisition file",
                "Title: La-H cell 3, day 12",
                "Nucleus: 139La",
                f"Frequency: {p['freq_hz']}",
                f"Bandwidth: {p['bw_khz']}",
                f"Averages: {p['averages']}",
                f"Temperature: {p['temperature_k']}",
                "Started: 2024-08-27T14:03:11+0200",
                "END HEADER",
            ]
        )
        + "\n"
    )
    body = data.real.astype("<f4").tobytes() + data.imag.astype("<f4").tobytes()
    path.write_bytes(header.encode() + body)
    return path, data


@pytest.fixture
def tabletop(tmp_path: Path) -> tuple[Path, np.ndarray]:
    return write_tabletop(tmp_path / "tabletop")


@pytest.fixture
def spinbox(tmp_path: Path) -> tuple[Path, np.ndarray]:
    return write_spinbox(tmp_path / "cell3_day12.sbx")


@pytest.fixture
def sample_writers() -> dict[str, Callable[..., tuple[Path, np.ndarray]]]:
    return {"tabletop": write_tabletop, "spinbox": write_spinbox}


@pytest.fixture
def params() -> dict[str, dict]:
    return {"tabletop": TABLETOP, "spinbox": SPINBOX}
