"""``relaxation.fit``: T1/T2 (and stretching exponents, two-component times) of many curves.

Input: ``relaxation`` rows (``delay_s`` is the recovery delay for T1 kinds and the full echo
time 2*tau for echo kinds). Output: one ``relaxation_fit`` row per curve. All curves that use
the same model are fitted as one batch (:mod:`.batch_fit`). Standard errors come from the
covariance scaled by the reduced chi-square, or from a residual bootstrap on request. A curve
whose relaxation time lies outside the sampled delays, or whose errors are large, is marked
``constrained = False`` with the reason in ``flags``. When a T1 and a T2 fit of the same cell,
nucleus and UTC day exist, both rows get ``t1_over_t2`` (1 in the extreme-narrowing limit).
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
import pyarrow as pa

from hydrofw.errors import ValidationError

from ._table import arrays, day_key, group_rows, nearest_index, row_label, values
from .batch_fit import BatchFitResult, fit_batch, residual_bootstrap
from .relaxation_models import RelaxationModel, default_model_for_kind, get_model

__all__ = ["RelaxationFitParams", "fit_relaxation"]

_MODEL_CHOICES = (
    "auto",
    "saturation_recovery",
    "saturation_recovery_stretched",
    "saturation_recovery_biexponential",
    "inversion_recovery",
    "hahn_echo",
    "hahn_echo_stretched",
    "hahn_echo_biexponential",
)


def _non_negative(_inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value}")


@attrs.frozen
class RelaxationFitParams:
    """Parameters of ``relaxation.fit``.

    ``model``: "auto" picks saturation_recovery, inversion_recovery or hahn_echo from the row's
    ``kind``; the ``_stretched`` models add an exponent beta, the ``_biexponential`` ones two
    times (``t_fast_s``, ``t_slow_s``) and ``fraction_fast``. ``offset`` adds a constant
    baseline. ``weighted`` uses ``amplitude_err`` as sigma when every error of a curve is finite
    and positive. ``bootstrap`` > 0 replaces the covariance errors by the standard deviation
    over that many residual resamples (``seed`` fixes them). A fitted quantity whose relative
    error exceeds ``max_relative_error`` makes the curve ``constrained = False``.
    """

    model: str = attrs.field(default="auto", validator=attrs.validators.in_(_MODEL_CHOICES))
    offset: bool = False
    weighted: bool = True
    bootstrap: int = attrs.field(default=0, converter=int, validator=_non_negative)
    seed: int = 0
    max_relative_error: float = attrs.field(default=0.5, converter=float)
    max_iterations: int = attrs.field(default=200, converter=int)


@attrs.frozen
class _Curves:
    """All curves of the input padded to one length: padding has sigma = inf (weight 0)."""

    t: np.ndarray
    y: np.ndarray
    sigma: np.ndarray
    weighted: np.ndarray  #: (rows,) False where amplitude_err was unusable (unit weights)


def _padded(parts: list[np.ndarray], n: int, fill: float) -> np.ndarray:
    out = np.full((len(parts), n), fill)
    for i, part in enumerate(parts):
        out[i, : part.size] = part
    return out


def _validated_curves(table: pa.Table, model_names: list[str], p: RelaxationFitParams) -> _Curves:
    """Pad and check every curve at once; the first bad row is named in the error."""
    delays, amps, errs = (
        arrays(table, "delay_s"),
        arrays(table, "amplitude"),
        arrays(table, "amplitude_err"),
    )
    sizes = np.array([[a.size for a in col] for col in (delays, amps, errs)])
    n = int(sizes.max()) if sizes.size else 0
    t, y, e = _padded(delays, n, 0.0), _padded(amps, n, 0.0), _padded(errs, n, np.nan)
    valid = np.arange(n)[None, :] < sizes[0][:, None]
    needed = np.array([get_model(m, p.offset).n_params for m in model_names])
    n_times = np.array([len(get_model(m).nonlinear) for m in model_names])
    sorted_t = np.sort(np.where(valid, t, np.nan), axis=1)  # NaN (padding) sorts last
    distinct = 1 + np.sum(sorted_t[:, 1:] > sorted_t[:, :-1], axis=1)
    checks = [
        (
            np.any(sizes != sizes[0], axis=0),
            lambda i: "delay_s, amplitude and amplitude_err differ in length",
        ),
        (
            sizes[0] < needed,
            lambda i: (
                f"{sizes[0][i]} points cannot constrain the {needed[i]} "
                f"parameters of model {model_names[i]!r}"
            ),
        ),
        (np.any(valid & ~np.isfinite(t), axis=1), lambda i: "delay_s holds NaN or infinite values"),
        (
            np.any(valid & (t < 0), axis=1),
            lambda i: f"delay_s holds negative delays ({t[i].min():g} s)",
        ),
        (
            np.any(valid & ~np.isfinite(y), axis=1),
            lambda i: "amplitude holds NaN or infinite values",
        ),
        (
            distinct < n_times + 1,
            lambda i: f"needs more distinct delays than it has ({distinct[i]})",
        ),
    ]
    for bad, message in checks:
        if bad.any():
            i = int(np.argmax(bad))
            label = row_label(
                "relaxation",
                values(table, "id")[i],
                values(table, "cell")[i],
                values(table, "kind")[i],
            )
            raise ValidationError(f"{label}: {message(i)}")
    weighted = np.full(len(t), p.weighted) & np.all(~valid | (np.isfinite(e) & (e > 0)), axis=1)
    sigma = np.where(valid, np.where(weighted[:, None], e, 1.0), np.inf)
    return _Curves(t, y, sigma, weighted)


def _flag_masks(
    model: RelaxationModel,
    fit: BatchFitResult,
    stderr: np.ndarray,
    t: np.ndarray,
    sigma: np.ndarray,
    max_rel: float,
    weighted: np.ndarray,
) -> dict[str, np.ndarray]:
    """Boolean mask over the batch for every flag that applies to this model."""
    valid = np.isfinite(sigma)
    t_min = np.where(valid & (t > 0), t, np.inf).min(axis=1)
    t_max = np.where(valid, t, -np.inf).max(axis=1)
    names = list(model.natural_names)
    times = [n for n in names if n.endswith("_s")]
    masks = {"not_converged": ~fit.converged, "no_degrees_of_freedom": fit.dof <= 0}
    for name in times:
        value = fit.values[:, names.index(name)]
        masks[f"{name[:-2]}_exceeds_longest_delay"] = value > t_max
        masks[f"{name[:-2]}_below_shortest_delay"] = value < t_min
    for name in [*times, *(["beta"] if model.stretched else [])]:
        value, err = fit.values[:, names.index(name)], stderr[:, names.index(name)]
        with np.errstate(invalid="ignore"):
            good = np.isfinite(err) & (np.abs(err) <= max_rel * np.abs(value))
        masks[f"{name.removesuffix('_s')}_poorly_determined"] = ~good
    masks["unweighted"] = ~weighted
    return masks


#: Flags that make a fit ``constrained = False`` (``unweighted`` alone does not).
_CONSTRAINT_FLAGS = (
    "not_converged",
    "no_degrees_of_freedom",
    "exceeds_longest_delay",
    "below_shortest_delay",
    "poorly_determined",
)


def _ratio_t1_t2(table: pa.Table, out: dict[str, np.ndarray]) -> None:
    """Fill ``t1_over_t2`` (+ ``_err``) on T1 and T2 rows of the same cell, nucleus, UTC day."""
    n = table.num_rows
    t1, e1 = out.get("t1_s", np.full(n, np.nan)), out.get("t1_s_err", np.full(n, np.nan))
    t2, e2 = out.get("t2_s", np.full(n, np.nan)), out.get("t2_s_err", np.full(n, np.nan))
    ratio, ratio_err = np.full(n, np.nan), np.full(n, np.nan)
    cells, nuclei, times = (values(table, c) for c in ("cell", "nucleus", "acquired_at"))
    keys = [(cells[i], nuclei[i], day_key(times[i])) for i in range(n)]
    for idx in group_rows(keys).values():
        t1_rows = [i for i in idx if np.isfinite(t1[i])]
        t2_rows = [i for i in idx if np.isfinite(t2[i])]
        for i in t1_rows if t2_rows else []:
            j = t2_rows[nearest_index(times[i], [times[k] for k in t2_rows])]
            value = t1[i] / t2[j]
            err = value * math.hypot(e1[i] / t1[i], e2[j] / t2[j])
            ratio[[i, j]], ratio_err[[i, j]] = value, err
    out["t1_over_t2"], out["t1_over_t2_err"] = ratio, ratio_err


def fit_relaxation(table: pa.Table, p: RelaxationFitParams) -> pa.Table:
    """Process function of ``relaxation.fit`` (see the module docstring).

    Output columns are assembled with numpy (NaN becomes null), not row by row.
    """
    n = table.num_rows
    kinds = values(table, "kind")
    model_names = [default_model_for_kind(k) if p.model == "auto" else p.model for k in kinds]
    curves = _validated_curves(table, model_names, p)
    numbers: dict[str, np.ndarray] = {}
    model_out = np.empty(n, dtype=object)
    error_method = np.empty(n, dtype=object)
    flags: list[list[str]] = [[] for _ in range(n)]
    constrained = np.ones(n, dtype=bool)

    def put(name: str, idx: np.ndarray, data: np.ndarray) -> None:
        numbers.setdefault(name, np.full(n, np.nan))[idx] = data

    for (name,), rows in group_rows([(m,) for m in model_names]).items():
        idx = np.asarray(rows)
        model = get_model(name, p.offset)
        t, y, s = curves.t[idx], curves.y[idx], curves.sigma[idx]
        fit = fit_batch(model, t, y, s, max_iter=p.max_iterations)
        stderr, method = fit.stderr, "covariance scaled by reduced chi2"
        if p.bootstrap:
            stderr = residual_bootstrap(model, t, y, s, fit, p.bootstrap, p.seed)
            method = f"residual bootstrap ({p.bootstrap} resamples)"
        for k, natural in enumerate(model.natural_names):
            put(natural, idx, fit.values[:, k])
            put(f"{natural}_err", idx, stderr[:, k])
        put("reduced_chi2", idx, fit.reduced_chi2)
        put("aic", idx, fit.aic)
        put("n_points", idx, fit.dof + model.n_params)
        model_out[idx], error_method[idx] = model.name, method
        masks = _flag_masks(model, fit, stderr, t, s, p.max_relative_error, curves.weighted[idx])
        for flag, mask in masks.items():
            for j in idx[mask]:
                flags[j].append(flag)
            if flag.endswith(_CONSTRAINT_FLAGS):
                constrained[idx[mask]] = False
    _ratio_t1_t2(table, numbers)
    return _output(table, numbers, model_out, error_method, constrained, flags)


def _output(
    table: pa.Table,
    numbers: dict[str, np.ndarray],
    model_out: np.ndarray,
    error_method: np.ndarray,
    constrained: np.ndarray,
    flags: list[list[str]],
) -> pa.Table:
    ids = table.column("id").combine_chunks()
    n = table.num_rows
    columns: dict[str, Any] = {
        name: table.column(name)
        for name in ("id", "cell", "campaign", "acquired_at", "nucleus", "kind")
        if name in table.column_names
    }
    columns |= {
        "method": pa.array([f"relaxation.fit: {m}" for m in model_out]),
        "input_ids": pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), ids),
        "relaxation_id": ids,
        "model": pa.array(list(model_out), pa.string()),
        "error_method": pa.array(list(error_method), pa.string()),
        "constrained": pa.array(constrained),
        "flags": pa.array(flags, pa.list_(pa.string())),
    }
    for name, data in numbers.items():
        finite = np.isfinite(data)
        if name == "n_points":
            columns[name] = pa.array(data.astype(np.int64))
        else:
            columns[name] = pa.array(np.where(finite, data, 0.0), mask=~finite)
    return pa.table(columns)
