"""Sweep splitting, column-name units and role guessing."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hydrofw_transport.columns import identify_columns
from hydrofw_transport.header import bridge_settings, header_parameters
from hydrofw_transport.sweeps import moving_average, noise_sigma, split_sweeps
from hydrofw_transport.units import parse_quantity, split_unit
from hypothesis import given, settings
from hypothesis import strategies as st

from hydrofw.errors import FormatError


@pytest.mark.parametrize(
    ("header", "name", "kind", "scale", "offset"),
    [
        ("T (K)", "T", "temperature", 1.0, 0.0),
        ("Temperature_K", "Temperature", "temperature", 1.0, 0.0),
        ("T/mK", "T", "temperature", 1e-3, 0.0),
        ("Temp [°C]", "Temp", "temperature", 1.0, 273.15),
        ("R(Ohm)", "R", "resistance", 1.0, 0.0),
        ("Resistance [ohm]", "Resistance", "resistance", 1.0, 0.0),
        ("R (kOhm)", "R", "resistance", 1e3, 0.0),
        ("R_mOhm", "R", "resistance", 1e-3, 0.0),
        ("R (MOhm)", "R", "resistance", 1e6, 0.0),
        ("Time Stamp (sec)", "Time Stamp", "time", 1.0, 0.0),
        ("elapsed (min)", "elapsed", "time", 60.0, 0.0),
        ("Bridge 1 Excitation (uA)", "Bridge 1 Excitation", "current", 1e-6, 0.0),
        ("Frequency Ch1 (Hz)", "Frequency Ch1", "frequency", 1.0, 0.0),
    ],
)
def test_split_unit(header: str, name: str, kind: str, scale: float, offset: float) -> None:
    got_name, unit = split_unit(header)
    assert got_name == name and unit is not None
    assert (unit.kind, unit.scale, unit.offset) == (kind, pytest.approx(scale), offset)


def test_unknown_units_stay_in_the_name() -> None:
    assert split_unit("Sample_Position") == ("Sample_Position", None)
    assert split_unit("Long Moment (emu)") == ("Long Moment", None)


def test_parse_quantity() -> None:
    assert parse_quantity("100 uA", "current") == pytest.approx(1e-4)
    assert parse_quantity("1e-4", "current") == pytest.approx(1e-4)
    assert parse_quantity("13.7 Hz", "frequency") == pytest.approx(13.7)
    assert parse_quantity("30 uV", "current") is None
    assert parse_quantity("fast", "frequency") is None


@pytest.mark.parametrize(
    ("headers", "t", "r", "time"),
    [
        (["Time (s)", "Setpoint (K)", "T (K)", "R (Ohm)"], 2, 3, 0),
        (["timestamp", "Temperature_K", "R_std (Ohm)", "Resistance_Ohm"], 1, 3, 0),
        (["sim921_resistance", "lakeshore_temperature"], 1, 0, None),
        (["Elapsed (min)", "Tsample", "RVAL"], 1, 2, 0),
        (["T", "R1", "phase (deg)"], 0, 1, None),
    ],
)
def test_role_guessing(headers: list[str], t: int, r: int, time: int | None) -> None:
    cmap = identify_columns(headers, "x.csv")
    assert cmap.temperature.index == t and cmap.resistance.index == r
    assert (cmap.time.index if cmap.time else None) == time


def test_ambiguous_columns_are_flagged() -> None:
    cmap = identify_columns(["T (K)", "R1 (Ohm)", "R2 (Ohm)"], "x.csv")
    assert cmap.resistance.index == 1 and "ambiguous_resistance_column" in cmap.flags


def test_no_resistance_column() -> None:
    with pytest.raises(FormatError, match=r"x\.csv: no resistance column found .*'Voltage'"):
        identify_columns(["T (K)", "Voltage"], "x.csv")


def test_header_parameters_keep_everything() -> None:
    params = header_parameters(
        ["Excitation: 100 uA", "free text line", "", "RANG 4", "Excitation = 2"]
    )
    assert params["Excitation"] == "100 uA" and params["RANG"] == "4"
    assert params["line1"] == "free text line" and params["Excitation#4"] == "2"
    settings_ = bridge_settings(params)
    assert settings_.excitation_a == pytest.approx(1e-4)  # a bare "2" is not taken as 2 A


def test_split_noisy_triangle_with_holds(triangle: Callable[..., np.ndarray]) -> None:
    rng = np.random.default_rng(1)
    legs = triangle(300, 4, 10.0, 300.0)
    hold = np.full(50, 10.0)
    t = np.concatenate([legs[:300], hold, legs[300:]]) + rng.normal(0, 0.02, 1250)
    sweeps = split_sweeps(t, min_span_k=2.0)
    assert [s.direction for s in sweeps] == ["cooling", "warming", "cooling", "warming"]
    for s in sweeps:
        assert np.all(np.diff(s.rows) == 1)  # contiguous, in measured order
        assert np.ptp(t[s.rows]) > 280.0
    held = np.arange(300 + 4, 350 - 4)  # the hold, but for half a smoothing window at each end
    assert not np.isin(held, np.concatenate([s.rows for s in sweeps])).any()


def test_nan_temperatures_belong_to_no_sweep() -> None:
    t = np.linspace(300.0, 10.0, 100)
    t[[5, 50]] = np.nan
    (sweep,) = split_sweeps(t)
    assert sweep.direction == "cooling" and 5 not in sweep.rows and 50 not in sweep.rows


def test_moving_average_and_noise() -> None:
    assert moving_average(np.arange(10.0), 3) == pytest.approx(np.r_[0.5, 1:9, 8.5])
    rng = np.random.default_rng(4)
    trace = np.linspace(0, 100, 20000) + rng.normal(0, 0.5, 20000)
    assert noise_sigma(trace) == pytest.approx(0.5, rel=0.05)


@settings(max_examples=40, deadline=None)
@given(
    legs=st.lists(st.floats(5.0, 300.0), min_size=2, max_size=6),
    points=st.integers(20, 120),
    noise=st.floats(0.0, 0.2),
)
def test_sweeps_are_disjoint_and_monotonic(legs: list[float], points: int, noise: float) -> None:
    rng = np.random.default_rng(0)
    t = np.concatenate(
        [np.linspace(a, b, points) for a, b in zip(legs[:-1], legs[1:], strict=True)]
    )
    t = t + rng.normal(0, noise, t.size)
    sweeps = split_sweeps(t, min_span_k=2.0)
    seen = np.concatenate([s.rows for s in sweeps]) if sweeps else np.empty(0, int)
    assert np.unique(seen).size == seen.size
    for s in sweeps:
        smooth = moving_average(t[s.rows], 9)
        sign = 1.0 if s.direction == "warming" else -1.0
        assert sign * (smooth[-1] - smooth[0]) > 0
