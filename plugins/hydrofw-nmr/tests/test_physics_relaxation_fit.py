"""relaxation.fit: batched fits against closed-form truth, scipy curve_fit and noise statistics."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from hydrofw_nmr.physics import get_model, model_function
from hydrofw_nmr.physics.batch_fit import fit_batch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import curve_fit

import hydrofw
from hydrofw import RelaxationCurve, to_table
from hydrofw.errors import ParameterError, ValidationError

DAY = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC)
DELAYS_S = np.geomspace(1e-4, 0.05, 14)


def _curve(
    kind: str,
    model: str,
    truth: tuple[float, ...],
    *,
    sigma: float = 0.01,
    seed: int = 0,
    cell: str = "A",
    when: dt.datetime = DAY,
    delays: np.ndarray = DELAYS_S,
) -> RelaxationCurve:
    rng = np.random.default_rng(seed)
    y = model_function(model)(delays, *truth) + rng.normal(0.0, sigma, delays.size)
    return RelaxationCurve(
        nucleus="1H",
        kind=kind,
        delay_s=delays,
        amplitude=y,
        amplitude_err=np.full(delays.size, sigma),
        cell=cell,
        acquired_at=when,
    )


def _within(value: float, err: float, truth: float, n_sigma: float = 2.0) -> bool:
    return abs(value - truth) <= n_sigma * err


def test_registered_processors() -> None:
    names = set(hydrofw.get_registry().processors)
    assert {
        "relaxation.build",
        "relaxation.fit",
        "nmr.diffusion",
        "nmr.pake_fit",
        "nmr.quantify",
    } <= names


@pytest.mark.parametrize(
    ("kind", "model", "truth", "names"),
    [
        ("T1_saturation_recovery", "saturation_recovery", (1.0, 0.0015), ("m0", "t1_s")),
        ("T2_hahn_echo", "hahn_echo", (2.0, 0.004), ("m0", "t2_s")),
        (
            "T1_inversion_recovery",
            "inversion_recovery",
            (1.0, 0.003, 0.97),
            ("m0", "t1_s", "inversion_factor"),
        ),
        ("T2_hahn_echo", "hahn_echo_stretched", (1.0, 0.004, 0.7), ("m0", "t2_s", "beta")),
    ],
)
def test_recovers_truth_within_two_sigma(kind, model, truth, names) -> None:
    table = to_table([_curve(kind, model, truth, seed=3)])
    out = hydrofw.process("relaxation.fit", table, model=model).to_pylist()[0]
    assert out["model"] == model
    for name, value in zip(names, truth, strict=True):
        assert out[f"{name}_err"] > 0
        assert _within(out[name], out[f"{name}_err"], value), (name, out[name], out[f"{name}_err"])
    assert out["constrained"] is True
    assert 0.3 < out["reduced_chi2"] < 3.0


@pytest.mark.parametrize(
    ("model", "truth", "checked"),
    [
        ("saturation_recovery", (1.0, 0.002), ("t1_s", "m0")),
        ("hahn_echo", (1.0, 0.004), ("t2_s", "m0")),
        ("hahn_echo_stretched", (1.0, 0.004, 0.7), ("t2_s", "beta")),
        ("inversion_recovery", (1.0, 0.003, 0.95), ("t1_s", "inversion_factor")),
    ],
)
def test_reported_sigma_matches_scatter(model, truth, checked) -> None:
    """Over many noise draws the spread of each parameter equals its mean reported error within
    30 %, and the mean is unbiased within the sampling error."""
    n = 400
    rng = np.random.default_rng(11)
    t = np.tile(DELAYS_S, (n, 1))
    y = model_function(model)(t, *truth) + rng.normal(0.0, 0.02, t.shape)
    fit = fit_batch(get_model(model), t, y, np.full_like(y, 0.02))
    assert fit.converged.all()
    names = get_model(model).natural_names
    for name in checked:
        value, err = fit.column(name), fit.error(name)
        assert abs(np.mean(value) - truth[names.index(name)]) < 4 * np.std(value) / np.sqrt(n)
        assert np.std(value, ddof=1) == pytest.approx(np.mean(err), rel=0.3), name


@pytest.mark.parametrize(
    ("model", "truth", "offset"),
    [
        ("saturation_recovery", (1.0, 0.002), False),
        ("saturation_recovery", (1.0, 0.002, 0.05), True),
        ("hahn_echo", (3.0, 0.003), False),
        ("inversion_recovery", (1.5, 0.004, 0.9), False),
        ("hahn_echo_stretched", (1.0, 0.003, 0.6), False),
        ("saturation_recovery_stretched", (1.0, 0.003, 0.8), False),
        ("saturation_recovery_biexponential", (1.0, 0.3, 0.0008, 0.01), False),
        ("hahn_echo_biexponential", (1.0, 0.4, 0.0005, 0.008), False),
    ],
)
def test_identical_to_curve_fit(model, truth, offset) -> None:
    """Values and standard errors equal scipy's curve_fit (sigma given, absolute_sigma=False)."""
    f = model_function(model, offset)
    rng = np.random.default_rng(5)
    t = np.geomspace(5e-5, 0.08, 20)
    y = f(t, *truth) + rng.normal(0.0, 0.01, t.size)
    sigma = np.full(t.size, 0.01)
    fit = fit_batch(get_model(model, offset), t[None], y[None], sigma[None])
    ref, cov = curve_fit(
        f,
        t,
        y,
        p0=fit.values[0] * 1.02,
        sigma=sigma,
        xtol=1e-14,
        ftol=1e-14,
        gtol=1e-14,
        maxfev=100000,
    )
    np.testing.assert_allclose(fit.values[0], ref, rtol=1e-6)
    np.testing.assert_allclose(fit.stderr[0], np.sqrt(np.diag(cov)), rtol=1e-5)


def test_ragged_batch_equals_separate_fits() -> None:
    short = _curve(
        "T1_saturation_recovery", "saturation_recovery", (1.0, 0.002), seed=1, delays=DELAYS_S[:9]
    )
    long = _curve("T1_saturation_recovery", "saturation_recovery", (2.0, 0.004), seed=2)
    together = hydrofw.process("relaxation.fit", to_table([short, long])).to_pylist()
    alone = [hydrofw.process("relaxation.fit", to_table([c])).to_pylist()[0] for c in (short, long)]
    for a, b in zip(together, alone, strict=True):
        assert a["t1_s"] == pytest.approx(b["t1_s"], rel=1e-9)
        assert a["t1_s_err"] == pytest.approx(b["t1_s_err"], rel=1e-7)
        assert a["n_points"] == b["n_points"]


def test_bootstrap_errors_agree_with_covariance() -> None:
    table = to_table(
        [
            _curve("T1_saturation_recovery", "saturation_recovery", (1.0, 0.002), seed=s)
            for s in range(4)
        ]
    )
    cov = hydrofw.process("relaxation.fit", table).to_pylist()
    boot = hydrofw.process("relaxation.fit", table, bootstrap=300, seed=1).to_pylist()
    ratio = np.array([b["t1_s_err"] / c["t1_s_err"] for b, c in zip(boot, cov, strict=True)])
    assert np.all((ratio > 0.5) & (ratio < 1.6))
    assert boot[0]["error_method"].startswith("residual bootstrap")
    assert [b["t1_s"] for b in boot] == [c["t1_s"] for c in cov]


def test_unconstrained_when_t1_exceeds_longest_delay() -> None:
    delays = np.linspace(1e-4, 2e-3, 10)
    curve = _curve(
        "T1_saturation_recovery", "saturation_recovery", (1.0, 0.02), delays=delays, sigma=0.002
    )
    out = hydrofw.process("relaxation.fit", to_table([curve])).to_pylist()[0]
    assert out["constrained"] is False
    assert "t1_exceeds_longest_delay" in out["flags"]


def test_t1_over_t2_same_cell_and_day() -> None:
    t1 = _curve("T1_saturation_recovery", "saturation_recovery", (1.0, 0.0015), seed=1)
    t2 = _curve(
        "T2_hahn_echo", "hahn_echo", (1.0, 0.0015), seed=2, when=DAY + dt.timedelta(hours=2)
    )
    other_cell = _curve("T2_hahn_echo", "hahn_echo", (1.0, 0.0005), seed=3, cell="B")
    rows = hydrofw.process("relaxation.fit", to_table([t1, t2, other_cell])).to_pylist()
    ratio = rows[0]["t1_s"] / rows[1]["t2_s"]
    expected_err = ratio * np.hypot(
        rows[0]["t1_s_err"] / rows[0]["t1_s"], rows[1]["t2_s_err"] / rows[1]["t2_s"]
    )
    for row in rows[:2]:
        assert row["t1_over_t2"] == pytest.approx(ratio)
        assert row["t1_over_t2_err"] == pytest.approx(expected_err)
    assert abs(ratio - 1.0) < 3 * expected_err  # extreme narrowing: T1 = T2
    assert rows[2]["t1_over_t2"] is None


def _raw_table(delay: list[float], amplitude: list[float]) -> pa.Table:
    return pa.table(
        {
            "id": ["r1"],
            "nucleus": ["1H"],
            "kind": ["T1_saturation_recovery"],
            "cell": ["X"],
            "delay_s": [delay],
            "amplitude": [amplitude],
            "amplitude_err": [[0.1] * len(delay)],
            "history": pa.array(
                [[]],
                pa.list_(
                    pa.struct(
                        [
                            ("step", pa.string()),
                            ("plugin", pa.string()),
                            ("version", pa.string()),
                            ("params_json", pa.string()),
                        ]
                    )
                ),
            ),
        }
    )


@pytest.mark.parametrize(
    ("delay", "amplitude", "message"),
    [
        ([0.001], [0.5], "cannot constrain"),
        ([-0.001, 0.002, 0.003, 0.004], [0.1, 0.5, 0.7, 0.8], "negative"),
        ([0.001, 0.002, 0.003, 0.004], [0.1, float("nan"), 0.7, 0.8], "NaN"),
        ([0.001, 0.002, 0.003], [0.1, 0.2], "differ in length"),
    ],
)
def test_bad_input_is_a_hydrofw_error(delay, amplitude, message) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        hydrofw.process("relaxation.fit", _raw_table(delay, amplitude))
    assert "relaxation row r1" in str(info.value) and "cell X" in str(info.value)


def test_bad_parameters() -> None:
    table = to_table([_curve("T1_inversion_recovery", "inversion_recovery", (1.0, 0.003, 1.0))])
    with pytest.raises(ParameterError, match="degenerate"):
        hydrofw.process("relaxation.fit", table, offset=True)
    with pytest.raises(ParameterError):
        hydrofw.process("relaxation.fit", table, model="no_such_model")


@settings(max_examples=25, deadline=None)
@given(t1_s=st.floats(3e-4, 0.02), m0=st.floats(0.1, 100.0))
def test_noise_free_curves_are_exact(t1_s: float, m0: float) -> None:
    y = model_function("saturation_recovery")(DELAYS_S, m0, t1_s)
    fit = fit_batch(get_model("saturation_recovery"), DELAYS_S[None], y[None])
    assert fit.column("t1_s")[0] == pytest.approx(t1_s, rel=1e-7)
    assert fit.column("m0")[0] == pytest.approx(m0, rel=1e-7)


_values = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=60, deadline=None)
@given(
    delay=st.lists(st.floats(-1.0, 10.0) | st.just(float("nan")), min_size=0, max_size=8),
    amplitude=st.lists(_values, min_size=0, max_size=8),
)
def test_fuzzed_curves_give_a_table_or_a_hydrofw_error(delay, amplitude) -> None:
    n = min(len(delay), len(amplitude))
    table = _raw_table(delay[:n], amplitude[:n])
    try:
        out = hydrofw.process("relaxation.fit", table)
    except hydrofw.errors.HydrofwError:
        return
    assert out.num_rows == 1
