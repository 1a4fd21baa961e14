"""Processor transport.tc: the worked example of physics.md section 6 recomputed, closed-form
transitions with noise recovered within their stated errors, and the hard cases."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest
from scipy.optimize import brentq, minimize_scalar

import hydrofw
from hydrofw import TransportCurve, to_table
from hydrofw.errors import ParameterError


def _table(curves: list[tuple[np.ndarray, np.ndarray]], sweep: str = "cooling") -> pa.Table:
    return to_table(
        [TransportCurve(temperature_k=t, resistance_ohm=r, sweep=sweep, sweep_index=k)
         for k, (t, r) in enumerate(curves)]
    )  # fmt: skip


def _col(table: pa.Table, name: str) -> np.ndarray:
    return np.array(table.column(name).to_pylist(), dtype=float)


def _tangent_truth(
    r: Callable[[float], float], rn_intercept: float, rn_slope: float, lo: float, hi: float
) -> dict[str, float]:
    """Max dR/dT of a closed-form R(T), its tangent's intersections with R_n and with R = 0."""

    def slope(t: float) -> float:
        return (r(t + 1e-5) - r(t - 1e-5)) / 2e-5

    peak = minimize_scalar(
        lambda t: -slope(t), bounds=(lo, hi), method="bounded", options={"xatol": 1e-10}
    ).x
    s, value = slope(peak), r(peak)
    return {
        "tc_dRdT_k": peak,
        "tc_onset_k": (rn_intercept - value + s * peak) / (s - rn_slope),
        "tc_zero_tangent_k": peak - value / s,
    }


def test_worked_logistic_example(rt_model: Callable[..., np.ndarray]) -> None:
    """physics.md section 6: R = R_n / (1 + exp(-(T - 150)/3)), R_n = 1 + 0.004 (T - 150)."""

    def r(t: float) -> float:
        return float(rt_model(np.asarray(t)))

    truth = _tangent_truth(r, 1.0 - 0.6, 0.004, 140.0, 160.0)
    truth["tc_90_k"] = brentq(lambda t: r(t) / (1 + 0.004 * (t - 150)) - 0.9, 150, 170)
    truth["tc_50_k"] = brentq(lambda t: r(t) / (1 + 0.004 * (t - 150)) - 0.5, 140, 160)
    truth["tc_10_k"] = brentq(lambda t: r(t) / (1 + 0.004 * (t - 150)) - 0.1, 130, 150)
    truth["tc_zero_k"] = brentq(lambda t: r(t) / (1 + 0.004 * (t - 150)) - 1e-3, 100, 150)
    # the table of physics.md, to its rounding
    expected = {
        "tc_onset_k": 156.13,
        "tc_90_k": 156.59,
        "tc_50_k": 150.00,
        "tc_dRdT_k": 150.15,
        "tc_10_k": 143.41,
        "tc_zero_tangent_k": 144.14,
    }
    for name, value in expected.items():
        assert truth[name] == pytest.approx(value, abs=0.02), name
    t = np.arange(100.0, 200.0 + 1e-9, 0.05)
    for params in ({}, {"normal_window_k": (180.0, 200.0)}):
        out = hydrofw.process("transport.tc", _table([(t, rt_model(t))]), **params)
        for name, value in truth.items():
            got, err = _col(out, name)[0], _col(out, f"{name}_err")[0]
            assert got == pytest.approx(value, abs=0.01), (name, params)
            # noiseless: the stated error is ~0; allow for R/R_n = 1 - 2e-5 at 183 K (window)
            assert abs(got - value) <= 3 * err + 2e-3, (name, params)
        assert _col(out, "width_k")[0] == pytest.approx(
            truth["tc_90_k"] - truth["tc_10_k"], abs=0.01
        )
        assert _col(out, "normal_state_ohm")[0] == pytest.approx(1.0, abs=1e-4)
        assert out.column("n_steps")[0].as_py() == 1


def _tanh_truth(tc: float, delta: float, a: float, b: float, sigma: float) -> dict[str, float]:
    def rn(t: float) -> float:
        return a + b * (t - tc)

    def r(t: float) -> float:
        return rn(t) * 0.5 * (1.0 + np.tanh((t - tc) / delta))

    truth = _tangent_truth(r, a - b * tc, b, tc - delta, tc + delta)
    truth.update(
        tc_90_k=tc + delta * np.arctanh(0.8),
        tc_50_k=tc,
        tc_10_k=tc - delta * np.arctanh(0.8),
        tc_zero_k=brentq(lambda t: r(t) - max(1e-3 * rn(t), 3.0 * sigma), tc - 20 * delta, tc),
    )
    return truth


@pytest.mark.parametrize("spacing_k", [0.25, 1.0])
def test_noisy_tanh_steps_within_stated_errors(spacing_k: float) -> None:
    """A tanh step on a linear background with Gaussian noise: over 200 noise draws every
    criterion lies within 3 of its own standard errors of the closed-form value in >= 97 % of
    the sweeps, and the errors are not grossly inflated (rms z-score > 0.05)."""
    tc, delta, a, b, sigma = 80.0, 4.0, 2.0, 0.01, 2e-3
    rng = np.random.default_rng(2024)
    t = np.arange(40.0, 120.0 + 1e-9, spacing_k)
    clean = (a + b * (t - tc)) * 0.5 * (1.0 + np.tanh((t - tc) / delta))
    curves = [(t, clean + rng.normal(0.0, sigma, t.size)) for _ in range(200)]
    out = hydrofw.process("transport.tc", _table(curves), noise_ohm=sigma)
    for name, value in _tanh_truth(tc, delta, a, b, sigma).items():
        z = (_col(out, name) - value) / _col(out, f"{name}_err")
        assert np.mean(np.abs(z) < 3.0) >= 0.97, name
        assert np.sqrt(np.mean(z**2)) > 0.05, name


def test_noise_is_estimated_from_the_data(rt_model: Callable[..., np.ndarray]) -> None:
    rng = np.random.default_rng(5)
    t = np.arange(100.0, 200.0, 0.2)
    out = hydrofw.process("transport.tc", _table([(t, rt_model(t) + rng.normal(0, 4e-3, t.size))]))
    assert _col(out, "noise_ohm")[0] == pytest.approx(4e-3, rel=0.15)


def test_residual_resistance_never_reaches_zero(rt_model: Callable[..., np.ndarray]) -> None:
    t = np.arange(100.0, 200.0, 0.25)
    out = hydrofw.process("transport.tc", _table([(t, rt_model(t) + 0.05)]))
    assert out.column("tc_zero_k")[0].as_py() is None
    assert "zero_resistance_not_reached" in out.column("flags")[0].as_py()
    assert _col(out, "residual_ohm")[0] == pytest.approx(0.05, abs=1e-3)
    assert _col(out, "tc_50_k")[0] == pytest.approx(150.0, abs=0.6)


def test_two_step_transition_reports_both_steps() -> None:
    t = np.arange(90.0, 200.0, 0.2)
    rn = 1.0 + 0.004 * (t - 150.0)
    r = rn * (0.6 / (1 + np.exp(-(t - 150.0) / 1.5)) + 0.4 / (1 + np.exp(-(t - 120.0) / 1.5)))
    out = hydrofw.process("transport.tc", _table([(t, r)]))
    assert out.column("n_steps")[0].as_py() == 2
    assert "multi_step" in out.column("flags")[0].as_py()
    assert _col(out, "tc_step_upper_k")[0] == pytest.approx(150.0, abs=0.3)
    assert _col(out, "tc_step_lower_k")[0] == pytest.approx(120.0, abs=0.3)
    assert _col(out, "step_upper_fraction")[0] == pytest.approx(0.6, abs=0.03)
    assert _col(out, "tc_onset_k")[0] > 150.0 and _col(out, "tc_zero_k")[0] < 120.0


def test_sparse_points_have_larger_errors(rt_model: Callable[..., np.ndarray]) -> None:
    dense = np.arange(100.0, 200.0, 0.1)
    sparse = np.arange(100.0, 200.0, 2.5)
    out = hydrofw.process(
        "transport.tc", _table([(dense, rt_model(dense)), (sparse, rt_model(sparse))])
    )
    t50, err = _col(out, "tc_50_k"), _col(out, "tc_50_k_err")
    assert abs(t50[1] - 150.0) <= 3 * err[1] and err[1] > 5 * err[0]
    t90 = 150 + 3 * np.log(9)
    assert abs(_col(out, "tc_90_k")[1] - t90) <= 3 * _col(out, "tc_90_k_err")[1]


def test_hysteresis_and_unsorted_temperatures(rt_model: Callable[..., np.ndarray]) -> None:
    t = np.arange(100.0, 200.0, 0.25)
    cooling = (t[::-1], rt_model(t[::-1], tc_k=149.0))
    warming = (t, rt_model(t, tc_k=151.0))
    rng = np.random.default_rng(0)
    order = rng.permutation(t.size)
    shuffled = (t[order], rt_model(t, tc_k=151.0)[order])
    table = pa.concat_tables([_table([cooling], "cooling"), _table([warming, shuffled], "warming")])
    out = hydrofw.process("transport.tc", table)
    assert out.column("sweep").to_pylist() == ["cooling", "warming", "warming"]
    t50 = _col(out, "tc_50_k")
    assert t50[1] - t50[0] == pytest.approx(2.0, abs=0.02)
    for name in ("tc_onset_k", "tc_90_k", "tc_50_k", "tc_10_k", "tc_zero_k", "tc_dRdT_k"):
        assert _col(out, name)[2] == pytest.approx(_col(out, name)[1], abs=1e-9)


def test_batched_equals_one_at_a_time(rt_model: Callable[..., np.ndarray]) -> None:
    rng = np.random.default_rng(9)
    curves = []
    for k, n in enumerate((150, 400, 90)):
        t = np.sort(rng.uniform(100.0, 200.0, n))
        curves.append((t, rt_model(t, tc_k=140.0 + 5 * k) + rng.normal(0, 1e-3, n)))
    together = hydrofw.process("transport.tc", _table(curves))
    for k, curve in enumerate(curves):
        alone = hydrofw.process("transport.tc", _table([curve]))
        for name in ("tc_onset_k", "tc_50_k", "tc_zero_k", "tc_dRdT_k", "tc_onset_k_err"):
            assert _col(alone, name)[0] == pytest.approx(_col(together, name)[k], rel=1e-12)


def test_degenerate_sweeps(rt_model: Callable[..., np.ndarray]) -> None:
    t = np.arange(100.0, 200.0, 1.0)
    curves = [
        (t[:5], rt_model(t[:5])),  # too few points
        (t, 1.0 + 0.004 * (t - 150.0)),  # a metal: no transition
        (t, np.where(np.arange(t.size) % 7 == 0, np.nan, rt_model(t))),  # NaN (overload) points
        (t, np.full(t.size, np.nan)),  # every reading overloaded
    ]
    out = hydrofw.process("transport.tc", _table(curves))
    flags = out.column("flags").to_pylist()
    assert "too_few_points" in flags[0] and out.column("tc_50_k")[0].as_py() is None
    assert "no_transition" in flags[1] and out.column("tc_90_k")[1].as_py() is None
    assert _col(out, "tc_50_k")[2] == pytest.approx(150.0, abs=0.3)
    assert out.column("n_points").to_pylist() == [5, 100, 85, 0]
    assert "too_few_points" in flags[3] and out.column("tc_onset_k")[3].as_py() is None


def test_output_contract(rt_model: Callable[..., np.ndarray]) -> None:
    t = np.arange(100.0, 200.0, 0.5)
    table = _table([(t, rt_model(t))])
    out = hydrofw.process("transport.tc", table, zero_fraction=0.01)
    assert out.column("transport_id")[0].as_py() == table.column("id")[0].as_py()
    assert out.column("input_ids")[0].as_py() == [table.column("id")[0].as_py()]
    assert out.column("id")[0].as_py() != table.column("id")[0].as_py()  # derived by the core
    assert out.column("method")[0].as_py().startswith("transport.tc")
    notes = out.column("criterion_notes")[0].as_py()
    assert "0.01 R_n" in notes and "R_n(T) line fitted on" in notes
    for name in (
        "tc_onset_k",
        "tc_90_k",
        "tc_50_k",
        "tc_10_k",
        "tc_zero_k",
        "tc_dRdT_k",
        "width_k",
    ):
        assert name in out.column_names and f"{name}_err" in out.column_names


@pytest.mark.parametrize(
    "params",
    [
        {"smoothing_points": 4},
        {"normal_window_k": (200.0, 100.0)},
        {"zero_fraction": 2.0},
        {"noise_ohm": -1.0},
        {"bogus": 1},
    ],
)
def test_invalid_params(rt_model: Callable[..., np.ndarray], params: dict[str, object]) -> None:
    t = np.arange(100.0, 200.0, 0.5)
    with pytest.raises(ParameterError):
        hydrofw.process("transport.tc", _table([(t, rt_model(t))]), **params)


def test_reads_and_processes_a_log(rt_log: object) -> None:
    out = hydrofw.process("transport.tc", hydrofw.read(rt_log))
    assert out.column("sweep").to_pylist() == ["cooling", "warming"]
    assert _col(out, "tc_50_k") == pytest.approx([150.0, 150.0], abs=0.05)


def test_hold_at_base_and_turning_point_in_one_row(rt_model: Callable[..., np.ndarray]) -> None:
    """A row holding a whole run (cooling, a long hold at base, warming): the hold is dropped,
    the longest leg kept, and the flags say so."""
    rng = np.random.default_rng(3)
    down = np.linspace(200.0, 120.0, 500)
    hold = np.full(600, 120.0) + rng.normal(0, 2e-3, 600)
    up = np.linspace(120.0, 200.0, 300)
    t = np.concatenate([down, hold, up])
    out = hydrofw.process("transport.tc", _table([(t, rt_model(t) + rng.normal(0, 1e-4, t.size))]))
    flags = out.column("flags")[0].as_py()
    assert any(f.startswith("hold_points_removed:") for f in flags) and "turning_point" in flags
    # the cooling leg, less the points near the turning temperature
    assert 450 <= out.column("n_points")[0].as_py() <= 500
    assert _col(out, "tc_50_k")[0] == pytest.approx(150.0, abs=0.05)


def test_thermal_lag_of_a_cooling_warming_pair(rt_model: Callable[..., np.ndarray]) -> None:
    """The thermometer reads T - 0.8 K while cooling and T + 0.8 K while warming: the pair's
    lag is 0.8 K within its error; both rows name each other."""
    t = np.arange(100.0, 200.0, 0.1)
    lag = 0.8
    curves = [
        TransportCurve(temperature_k=t[::-1] - lag, resistance_ohm=rt_model(t[::-1]),
                       sweep="cooling", sweep_index=0, source_sha256="a" * 64),
        TransportCurve(temperature_k=t + lag, resistance_ohm=rt_model(t),
                       sweep="warming", sweep_index=1, source_sha256="a" * 64),
        TransportCurve(temperature_k=t, resistance_ohm=rt_model(t),
                       sweep="warming", sweep_index=0, source_sha256="b" * 64),
    ]  # fmt: skip
    table = to_table(curves)
    out = hydrofw.process("transport.tc", table)
    lag_k, err = _col(out, "thermal_lag_k"), _col(out, "thermal_lag_k_err")
    assert lag_k[:2] == pytest.approx([lag, lag], abs=max(3 * err[0], 1e-3))
    assert np.isnan(lag_k[2])  # no partner
    ids = table.column("id").to_pylist()
    assert out.column("lag_partner_id").to_pylist() == [ids[1], ids[0], None]


def test_sweep_without_transition_in_range_is_null_and_flagged(
    rt_model: Callable[..., np.ndarray],
) -> None:
    """Tc = 150 K but the sweep stops at 152 K: only the top of the drop is in range; no
    criterion may be the sweep's edge."""
    t = np.arange(152.0, 220.0, 0.2)
    out = hydrofw.process("transport.tc", _table([(t, rt_model(t, width_k=1.0))]))
    assert "no_transition" in out.column("flags")[0].as_py()
    for name in ("tc_onset_k", "tc_90_k", "tc_50_k", "tc_10_k", "tc_zero_k", "tc_dRdT_k"):
        assert out.column(name)[0].as_py() is None, name
