"""Synthetic R(T) logs with known Tc: for tests, benchmarks and checking a lab's criteria.

One log is a cooling sweep from ``high_k`` to a base temperature, a hold at base, and a
warming sweep back up (what a cryostat run looks like). The sample's resistance is

    R(T_s) = R_n(T_s) * g(T_s),  R_n = r_n_ohm * (1 + alpha (T_s - tc_k)),
    g = sum_k f_k / (1 + exp(-(T_s - T_k) / w_k))        (one or two logistic steps, sum f_k = 1)

and the thermometer reads ``T = T_s - lag_k`` while cooling and ``T = T_s + lag_k`` while
warming (a thermometer lagging behind the sample). Gaussian noise is added to T and R, and
some readings are missing (NaN). :func:`truth` gives every ``transport.tc`` criterion of the
noiseless curve in *thermometer* temperature for each sweep direction; the thermal lag of the
pair is ``lag_k``. A log may have no transition in range (a metal, or Tc below base).
"""

from __future__ import annotations

import math

import attrs
import numpy as np
from scipy.optimize import brentq, minimize_scalar

__all__ = ["SweepModel", "random_model", "log_arrays", "truth"]


@attrs.frozen
class SweepModel:
    """Parameters of one synthetic log (temperatures in K, resistances in ohm)."""

    steps: tuple[tuple[float, float, float], ...]  # (T_k, w_k, f_k), warmest first
    r_n_ohm: float = 1.0
    alpha_per_k: float = 0.004
    base_k: float = 40.0
    high_k: float = 200.0
    spacing_k: float = 0.1
    hold_points: int = 400
    lag_k: float = 0.0
    noise_t_k: float = 0.005
    noise_rel: float = 2e-5
    missing_fraction: float = 0.01
    superconducting: bool = True

    @property
    def tc_k(self) -> float:
        return self.steps[-1][0] if self.steps else math.nan

    def ratio(self, t_k: np.ndarray) -> np.ndarray:
        """g(T_s) = R / R_n of the sample (1 for a metal)."""
        t_k = np.asarray(t_k, dtype=float)
        if not self.superconducting:
            return np.ones_like(t_k)
        with np.errstate(over="ignore"):
            return sum(f / (1.0 + np.exp(-(t_k - tk) / w)) for tk, w, f in self.steps)

    def normal(self, t_k: np.ndarray) -> np.ndarray:
        ref = self.tc_k if self.superconducting else self.base_k
        return self.r_n_ohm * (1.0 + self.alpha_per_k * (np.asarray(t_k, float) - ref))

    def resistance(self, t_sample_k: np.ndarray) -> np.ndarray:
        return self.normal(t_sample_k) * self.ratio(t_sample_k)


def random_model(seed: int, *, p_two_step: float = 0.3, p_none: float = 0.1) -> SweepModel:
    """A random log: Tc 60-160 K, widths 0.7-2.5 K, base 15-35 K below the transition,
    warming lag 0-1.5 K, relative bridge noise 1e-5 to 5e-5 (a SIM921 on a 1 ohm sample),
    1-3 % missing readings; with ``p_two_step`` a second, smaller step (8-25 % of the drop)
    12-25 K above Tc; with ``p_none`` no transition in range (half metals, half Tc below base).
    """
    rng = np.random.default_rng(seed)
    tc = rng.uniform(60.0, 160.0)
    w = rng.uniform(0.7, 2.5)
    kind = rng.uniform()
    steps: tuple[tuple[float, float, float], ...]
    if kind < p_two_step:
        f_up = rng.uniform(0.08, 0.25)
        steps = ((tc + rng.uniform(12.0, 25.0), rng.uniform(0.7, 2.0), f_up), (tc, w, 1 - f_up))
    else:
        steps = ((tc, w, 1.0),)
    base = tc - rng.uniform(15.0, 35.0)
    superconducting = True
    if kind > 1.0 - p_none:
        if rng.uniform() < 0.5:
            superconducting = False
        else:
            base = tc + rng.uniform(15.0, 25.0)  # the transition lies below the sweep
    top = max(s[0] for s in steps) + rng.uniform(35.0, 60.0)
    return SweepModel(
        steps=steps,
        r_n_ohm=rng.uniform(0.2, 5.0),
        alpha_per_k=rng.uniform(0.0, 0.006),
        base_k=max(base, 2.0),
        high_k=top,
        spacing_k=rng.uniform(0.05, 0.2),
        hold_points=int(rng.integers(100, 800)),
        lag_k=rng.uniform(0.0, 1.5),
        noise_t_k=rng.uniform(0.001, 0.01),
        noise_rel=rng.uniform(1e-5, 5e-5),
        missing_fraction=rng.uniform(0.01, 0.03),
        superconducting=superconducting,
    )


def log_arrays(model: SweepModel, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time_s, thermometer T in K, R in ohm) of the whole log in measured order: cooling,
    hold at base (the controller settles with a small overshoot), warming."""
    rng = np.random.default_rng(seed + 1_000_003)
    n = int(round((model.high_k - model.base_k) / model.spacing_k)) + 1
    down = np.linspace(model.high_k, model.base_k, n)
    hold = model.base_k + 0.05 * np.exp(-np.arange(model.hold_points) / 30.0)
    up = down[::-1]
    sample = np.concatenate([down, hold, up])
    reading = np.concatenate([down - model.lag_k, hold, up + model.lag_k]) + rng.normal(
        0.0, model.noise_t_k, sample.size
    )
    r = model.resistance(sample)
    r = r + rng.normal(0.0, model.noise_rel * model.r_n_ohm, sample.size)
    missing = rng.uniform(size=sample.size) < model.missing_fraction
    r[missing] = np.nan
    time_s = np.arange(sample.size) * 2.0
    return time_s, reading, r


def _crossing(model: SweepModel, level: float, lo: float, hi: float) -> float:
    """Highest sample temperature in [lo, hi] where g = level (NaN when none)."""
    grid = np.linspace(lo, hi, 20001)
    g = model.ratio(grid) - level
    idx = np.flatnonzero(np.sign(g[1:]) != np.sign(g[:-1]))
    if idx.size == 0:
        return math.nan
    k = idx[-1]
    return float(brentq(lambda t: float(model.ratio(np.array(t))) - level, grid[k], grid[k + 1]))


def _slope(model: SweepModel, t: float) -> float:
    h = 1e-5
    return float((model.resistance(np.array(t + h)) - model.resistance(np.array(t - h))) / (2 * h))


def truth(model: SweepModel) -> dict[str, float]:
    """Every criterion of the noiseless sample curve in sample temperature (add ``+lag_k`` for
    the warming sweep's and ``-lag_k`` for the cooling sweep's thermometer temperature).

    T90/T50/T10: g = 0.9/0.5/0.1 on the full drop (highest crossing); onset: the tangent at the
    dR/dT maximum of the warmest step meets the normal-state line R_n(T); zero resistance:
    R < 1e-3 R_n (noise below that threshold, see :func:`random_model`). NaN everywhere when
    the sweep holds no transition.
    """
    names = ("tc_onset_k", "tc_90_k", "tc_50_k", "tc_10_k", "tc_zero_k")
    lo, hi = model.base_k, model.high_k
    if not model.superconducting or model.tc_k - 4 * model.steps[-1][1] < lo:
        return dict.fromkeys(names, math.nan)
    out = {
        "tc_90_k": _crossing(model, 0.9, lo, hi),
        "tc_50_k": _crossing(model, 0.5, lo, hi),
        "tc_10_k": _crossing(model, 0.1, lo, hi),
        "tc_zero_k": _crossing(model, 1e-3, lo, hi),
    }
    t_u, w_u, _ = model.steps[0]
    peak = minimize_scalar(
        lambda t: -_slope(model, t), bounds=(t_u - 3 * w_u, t_u + 3 * w_u), method="bounded",
        options={"xatol": 1e-9},
    ).x  # fmt: skip
    s = _slope(model, peak)
    r_p = float(model.resistance(np.array(peak)))
    b = model.r_n_ohm * model.alpha_per_k
    a = float(model.normal(np.array(peak)))  # R_n at the peak
    out["tc_onset_k"] = peak + (a - r_p) / (s - b)
    return out
