"""Spin counting: ratio of the numbers of two nuclear spins (e.g. H/La) from time-domain SNRs.

Reciprocity (Hoult & Richards 1976) for two nuclei a, b in the same magnet gives

    N_a/N_b = (SNR_a/SNR_b) (gamma_b/gamma_a)^p [I_b(I_b+1) / I_a(I_a+1)] (NA_b/NA_a)
              sqrt(NS_b/NS_a) sqrt(df_a/df_b) (eta_b/eta_a) (noise_a/noise_b) (f_b/f_a)

with NS the scans, df the receiver bandwidths, eta the coil efficiencies (B1/i), noise the
noise voltage factors sqrt(T R), and f = f_relax * f_exc * f_detected per channel. p = 3 is the
receptivity scaling (equal coil efficiency and noise in both channels); p = 11/4 holds when the
coil resistance grows as omega^1/2. For a quadrupolar nucleus whose satellites are not detected,
f_detected is the central-transition fraction: (I+1/2)^2 / [(2/3) I(I+1)(2I+1)] after a
non-selective pulse (4/21 for I = 7/2) or 3 / [4 I(I+1)] after a CT-selective pi/2 (1/21);
this changes H/La by 5.25 or 21 times, so it is always an explicit choice.

Calibrated mode multiplies the ratio by reference_ratio / raw_reference_ratio, with the raw
ratio of a reference measured in the same cell (e.g. LaH3 with H/La = 3 before heating): the
channel factors (eta, noise, p) cancel; scans, bandwidths and relaxation factors of each
measurement are still applied. Errors combine both SNRs of each pair and the reference ratio.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hydrofw.errors import ParameterError, ValidationError
from hydrofw.nuclei import normalize_nucleus
from hydrofw.nuclei import nucleus as nucleus_data
from hydrofw.schema import empty

from ._table import day_key, float_values, group_rows, nearest_index, table_from_rows, values

__all__ = [
    "Channel",
    "SpinRatio",
    "DETECTIONS",
    "detected_fraction",
    "spin_ratio_from_snr",
    "snr_ratio_from_spin_ratio",
    "calibrated_spin_ratio",
    "attach_acquisition",
    "with_decomposition",
    "COUNTS",
    "QuantifyParams",
    "quantify_table",
]

DETECTIONS = ("full", "central_transition_nonselective", "central_transition_selective")
COUNTS = ("metal_hydride", "hydride", "total")


def detected_fraction(nucleus: str, detection: str = "full") -> float:
    """Fraction of the full-spectrum signal that is detected for a spin-I nucleus.

    "full": 1 (every transition excited and detected, e.g. a cubic site without quadrupole
    splitting). "central_transition_nonselective": (I+1/2)^2 / [(2/3) I(I+1)(2I+1)].
    "central_transition_selective": 3 / [4 I(I+1)]. Half-integer quadrupolar nuclei only for CT.
    """
    if detection == "full":
        return 1.0
    spin = float(nucleus_data(nucleus).spin)
    if detection not in DETECTIONS:
        raise ParameterError(f"unknown detection {detection!r} (known: {', '.join(DETECTIONS)})")
    if spin < 1.5 or (2 * spin) % 2 != 1:
        raise ParameterError(f"{nucleus} (I = {spin:g}) has no central transition to select")
    ii = spin * (spin + 1.0)
    if detection == "central_transition_nonselective":
        return (spin + 0.5) ** 2 / ((2.0 / 3.0) * ii * (2.0 * spin + 1.0))
    return 3.0 / (4.0 * ii)


@attrs.frozen
class Channel:
    """Acquisition settings of one receive channel (ratios matter, not absolute values).

    ``n_scans``; ``bandwidth_hz`` receiver bandwidth; ``coil_efficiency`` (B1/i) and
    ``noise_factor`` sqrt(T_noise R), relative; ``relaxation_factor`` (1 - exp(-TR/T1))
    exp(-t_dead/T2*); ``excitation_factor``; ``detection`` (see :func:`detected_fraction`).
    """

    nucleus: str = attrs.field(converter=normalize_nucleus)
    n_scans: float = attrs.field(default=1.0, converter=float)
    bandwidth_hz: float = attrs.field(default=1.0, converter=float)
    coil_efficiency: float = attrs.field(default=1.0, converter=float)
    noise_factor: float = attrs.field(default=1.0, converter=float)
    relaxation_factor: float = attrs.field(default=1.0, converter=float)
    excitation_factor: float = attrs.field(default=1.0, converter=float)
    detection: str = attrs.field(default="full", validator=attrs.validators.in_(DETECTIONS))

    def __attrs_post_init__(self) -> None:
        for name in (
            "n_scans",
            "bandwidth_hz",
            "coil_efficiency",
            "noise_factor",
            "relaxation_factor",
            "excitation_factor",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ParameterError(
                    f"channel {self.nucleus}: {name} must be positive, got {value}"
                )

    @property
    def signal_factor(self) -> float:
        """f_relax * f_exc * f_detected."""
        return (
            self.relaxation_factor
            * self.excitation_factor
            * detected_fraction(self.nucleus, self.detection)
        )


@attrs.frozen
class SpinRatio:
    """N_a/N_b with its standard error and every factor used (by name)."""

    ratio: float
    ratio_err: float
    factors: dict[str, float]


def _conversion(a: Channel, b: Channel, p: float) -> dict[str, float]:
    """Factors turning SNR_a/SNR_b into N_a/N_b (their product is the conversion)."""
    na, nb = nucleus_data(a.nucleus), nucleus_data(b.nucleus)
    return {
        "gamma_factor": abs(nb.gamma_rad_s_t / na.gamma_rad_s_t) ** p,
        "spin_factor": nb.spin_factor / na.spin_factor,
        "abundance_factor": nb.abundance_percent / na.abundance_percent,
        "scans_factor": math.sqrt(b.n_scans / a.n_scans),
        "bandwidth_factor": math.sqrt(a.bandwidth_hz / b.bandwidth_hz),
        "coil_efficiency_factor": b.coil_efficiency / a.coil_efficiency,
        "noise_factor": a.noise_factor / b.noise_factor,
        "relaxation_factor": b.relaxation_factor / a.relaxation_factor,
        "excitation_factor": b.excitation_factor / a.excitation_factor,
        "detection_factor": detected_fraction(b.nucleus, b.detection)
        / detected_fraction(a.nucleus, a.detection),
    }


def _settings(a: Channel, b: Channel, p: float) -> dict[str, float]:
    return {
        "p_exponent": p,
        "gamma_ratio": abs(
            nucleus_data(a.nucleus).gamma_rad_s_t / nucleus_data(b.nucleus).gamma_rad_s_t
        ),
        "n_scans_numerator": a.n_scans,
        "n_scans_denominator": b.n_scans,
        "bandwidth_hz_numerator": a.bandwidth_hz,
        "bandwidth_hz_denominator": b.bandwidth_hz,
        "detected_fraction_numerator": detected_fraction(a.nucleus, a.detection),
        "detected_fraction_denominator": detected_fraction(b.nucleus, b.detection),
    }


def _rel(err: float, value: float) -> float:
    return err / abs(value) if value else math.inf


def spin_ratio_from_snr(
    snr_numerator: float,
    snr_denominator: float,
    numerator: Channel,
    denominator: Channel,
    *,
    snr_numerator_err: float = 0.0,
    snr_denominator_err: float = 0.0,
    p_exponent: float = 3.0,
) -> SpinRatio:
    """First-principles N_a/N_b from the time-domain SNRs of two channels (module docstring)."""
    if not (snr_numerator > 0 and snr_denominator > 0):
        raise ValidationError(
            f"SNRs must be positive (got {snr_numerator!r} and {snr_denominator!r})"
        )
    factors = _conversion(numerator, denominator, p_exponent)
    snr_ratio = snr_numerator / snr_denominator
    ratio = snr_ratio * math.prod(factors.values())
    rel = math.hypot(
        _rel(snr_numerator_err, snr_numerator), _rel(snr_denominator_err, snr_denominator)
    )
    factors |= _settings(numerator, denominator, p_exponent) | {"snr_ratio": snr_ratio}
    return SpinRatio(ratio, ratio * rel, factors)


def snr_ratio_from_spin_ratio(
    spin_ratio: float, numerator: Channel, denominator: Channel, *, p_exponent: float = 3.0
) -> float:
    """Expected SNR_a/SNR_b for a given N_a/N_b (inverse of :func:`spin_ratio_from_snr`)."""
    return spin_ratio / math.prod(_conversion(numerator, denominator, p_exponent).values())


def calibrated_spin_ratio(
    sample: SpinRatio,
    reference: SpinRatio,
    reference_ratio: float,
    reference_ratio_err: float = 0.0,
) -> SpinRatio:
    """Scale a raw ratio by reference_ratio / raw reference ratio (same cell, same channels).

    Pass ratios computed with the same channel efficiency/noise values (the defaults, 1): those
    factors cancel. The error adds the four SNR errors and the reference ratio's error.
    """
    if not reference.ratio > 0:
        raise ValidationError("the raw reference ratio must be positive")
    k = reference_ratio / reference.ratio
    rel = math.sqrt(
        _rel(sample.ratio_err, sample.ratio) ** 2
        + _rel(reference.ratio_err, reference.ratio) ** 2
        + _rel(reference_ratio_err, reference_ratio) ** 2
    )
    k_rel = math.hypot(
        _rel(reference.ratio_err, reference.ratio), _rel(reference_ratio_err, reference_ratio)
    )
    ratio = sample.ratio * k
    factors = dict(sample.factors) | {
        "calibration_factor": k,
        "calibration_factor_err": k * k_rel,
        "reference_ratio": reference_ratio,
        "reference_ratio_err": reference_ratio_err,
        "reference_raw_ratio": reference.ratio,
        "reference_snr_ratio": reference.factors["snr_ratio"],
    }
    return SpinRatio(ratio, ratio * rel, factors)


def attach_acquisition(lineshape: pa.Table, spectrum: pa.Table) -> pa.Table:
    """Add ``n_scans`` and ``spectral_width_hz`` of each lineshape row's spectrum (by
    ``spectrum_id``), so ``nmr.quantify`` can read scans and bandwidths from the metadata."""
    by_id = {
        sid: (ns, sw)
        for sid, ns, sw in zip(
            values(spectrum, "id"),
            values(spectrum, "n_scans"),
            values(spectrum, "spectral_width_hz"),
            strict=True,
        )
    }
    found = [by_id.get(s, (None, None)) for s in values(lineshape, "spectrum_id")]
    out = lineshape
    for k, name, type_ in ((0, "n_scans", pa.int64()), (1, "spectral_width_hz", pa.float64())):
        column = pa.array([f[k] for f in found], type_)
        if name in out.column_names:
            out = out.set_column(out.column_names.index(name), name, column)
        else:
            out = out.append_column(name, column)
    return out


def _pair_tuple(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    a, b = (float(v) for v in value)
    return (a, b)


def _unit_pair(value: Any) -> tuple[float, float]:
    a, b = (float(v) for v in value)
    return (a, b)


@attrs.frozen
class QuantifyParams:
    """Parameters of ``nmr.quantify``. Pairs are (numerator, denominator) channel values.

    ``mode``: "first_principles" or "calibrated". ``p_exponent``: 3 (receptivity), 2.75
    (omega^1/2 coil resistance) or any other choice. ``numerator_detection`` /
    ``denominator_detection``: "full", "central_transition_nonselective" (4/21 for 139La) or
    "central_transition_selective" (1/21). ``n_scans`` / ``bandwidth_hz``: override the
    ``n_scans`` / ``spectral_width_hz`` columns (see :func:`attach_acquisition`).
    ``coil_efficiency``, ``noise_factor``, ``relaxation_factor``, ``excitation_factor``: per
    channel. ``snr_rel_err``: extra relative error on each SNR, on top of one noise unit
    (SNR error = sqrt(1 + (snr_rel_err * SNR)^2) when the table has no ``snr_time_err``).
    Calibrated mode: ``reference`` "before_synthesis" (the latest pair with
    days_since_synthesis < 0 in each cell) or "ids" (the pair made of ``reference_ids``),
    with ``reference_ratio`` and ``reference_ratio_err`` (e.g. 3.0 for LaH3). A
    ``reference_ratio`` in first-principles mode fills the calibrated columns too (one run
    gives both methods). ``count``: which numerator signal ``ratio`` counts in rows that carry
    an ``nmr.decompose`` result (:func:`with_decomposition`): "metal_hydride" (hydride line +
    broad precursor line, i.e. every 1H but molecular H2; the default), "hydride" (the narrow
    line only) or "total" (every 1H); the total-1H ratio is always reported beside it.
    """

    numerator: str = attrs.field(default="1H", converter=normalize_nucleus)
    denominator: str = attrs.field(default="139La", converter=normalize_nucleus)
    mode: str = attrs.field(
        default="first_principles",
        validator=attrs.validators.in_(("first_principles", "calibrated")),
    )
    p_exponent: float = attrs.field(default=3.0, converter=float)
    numerator_detection: str = attrs.field(
        default="full", validator=attrs.validators.in_(DETECTIONS)
    )
    denominator_detection: str = attrs.field(
        default="full", validator=attrs.validators.in_(DETECTIONS)
    )
    n_scans: tuple[float, float] | None = attrs.field(default=None, converter=_pair_tuple)
    bandwidth_hz: tuple[float, float] | None = attrs.field(default=None, converter=_pair_tuple)
    coil_efficiency: tuple[float, float] = attrs.field(default=(1.0, 1.0), converter=_unit_pair)
    noise_factor: tuple[float, float] = attrs.field(default=(1.0, 1.0), converter=_unit_pair)
    relaxation_factor: tuple[float, float] = attrs.field(default=(1.0, 1.0), converter=_unit_pair)
    excitation_factor: tuple[float, float] = attrs.field(default=(1.0, 1.0), converter=_unit_pair)
    snr_rel_err: float = attrs.field(default=0.0, converter=float)
    reference: str = attrs.field(
        default="before_synthesis", validator=attrs.validators.in_(("before_synthesis", "ids"))
    )
    reference_ids: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    reference_ratio: float | None = None
    reference_ratio_err: float = attrs.field(default=0.0, converter=float)
    count: str = attrs.field(default="metal_hydride", validator=attrs.validators.in_(COUNTS))

    def __attrs_post_init__(self) -> None:
        if self.numerator == self.denominator:
            raise ValueError("numerator and denominator must be different nuclei")
        if not self.p_exponent > 0:
            raise ValueError("p_exponent must be positive")
        if self.mode == "calibrated" and (
            self.reference_ratio is None or not self.reference_ratio > 0
        ):
            raise ValueError("calibrated mode needs a positive reference_ratio")
        for nucleus, detection in (
            (self.numerator, self.numerator_detection),
            (self.denominator, self.denominator_detection),
        ):
            detected_fraction(nucleus, detection)

    def channel(self, k: int, n_scans: float, bandwidth_hz: float) -> Channel:
        """Channel k (0 numerator, 1 denominator) with the measurement's scans and bandwidth."""
        return Channel(
            nucleus=(self.numerator, self.denominator)[k],
            n_scans=n_scans,
            bandwidth_hz=bandwidth_hz,
            coil_efficiency=self.coil_efficiency[k],
            noise_factor=self.noise_factor[k],
            relaxation_factor=self.relaxation_factor[k],
            excitation_factor=self.excitation_factor[k],
            detection=(self.numerator_detection, self.denominator_detection)[k],
        )


@attrs.frozen
class _Measured:
    """One input row: the counted SNR and the total SNR with errors, scans and bandwidth."""

    index: int
    channel: int  #: 0 numerator, 1 denominator
    snr: float
    snr_err: float
    n_scans: float
    bandwidth_hz: float
    snr_total: float
    snr_total_err: float
    decomposed: bool


def _measurements(table: pa.Table, p: QuantifyParams) -> list[_Measured | None]:
    ids, cells = values(table, "id"), values(table, "cell")
    nuclei = [normalize_nucleus(n) if n else None for n in values(table, "nucleus")]
    snr = float_values(table, "snr_time")
    snr_err = float_values(table, "snr_time_err")
    counted = float_values(table, f"snr_{p.count}")
    counted_err = float_values(table, f"snr_{p.count}_err")
    decomposed = [
        m is not None and str(m).startswith("nmr.decompose") for m in values(table, "method")
    ]
    scans = float_values(table, "n_scans")
    widths = float_values(table, "spectral_width_hz")
    out: list[_Measured | None] = []
    for i in range(table.num_rows):
        if nuclei[i] not in (p.numerator, p.denominator):
            out.append(None)
            continue
        k = 0 if nuclei[i] == p.numerator else 1
        where = f"lineshape row {str(ids[i])[:12]} (cell {cells[i]}, {nuclei[i]})"
        if not decomposed[i] and not (np.isfinite(snr[i]) and snr[i] > 0):
            raise ValidationError(f"{where}: snr_time is {snr[i]!r}, not a positive number")
        ns = p.n_scans[k] if p.n_scans else scans[i]
        bw = p.bandwidth_hz[k] if p.bandwidth_hz else widths[i]
        for name, value, column in (
            ("n_scans", ns, "n_scans"),
            ("bandwidth_hz", bw, "spectral_width_hz"),
        ):
            if not (np.isfinite(value) and value > 0):
                raise ParameterError(
                    f"nmr.quantify: {where}: {name} unknown; pass {name}=(numerator, denominator) "
                    f"or a table with a {column} column (hydrofw_nmr.physics.attach_acquisition)"
                )
        err = snr_err[i] if np.isfinite(snr_err[i]) else math.hypot(1.0, p.snr_rel_err * snr[i])
        if decomposed[i] and k == 0:
            value, value_err = float(counted[i]), float(counted_err[i])
        else:
            value, value_err = float(snr[i]), float(err)
        out.append(
            _Measured(
                i,
                k,
                value,
                value_err,
                float(ns),
                float(bw),
                float(snr[i]),
                float(err),
                decomposed[i],
            )
        )
    return out


def _pairs(table: pa.Table, meas: list[_Measured | None]) -> list[tuple[_Measured, _Measured]]:
    """(numerator, denominator) pairs: same cell and UTC day, nearest in time."""
    cells, times = values(table, "cell"), values(table, "acquired_at")
    present = [m for m in meas if m is not None]
    keys = [(cells[m.index], day_key(times[m.index])) for m in present]
    pairs = []
    for idx in group_rows(keys).values():
        group = [present[k] for k in idx]
        dens = [m for m in group if m.channel == 1]
        if not dens:
            continue
        for m in (m for m in group if m.channel == 0):
            j = nearest_index(times[m.index], [times[d.index] for d in dens])
            pairs.append((m, dens[j]))
    return pairs


def _raw(
    p: QuantifyParams, num: _Measured, den: _Measured, total: bool = False
) -> SpinRatio | None:
    """First-principles ratio of the counted (or ``total``) numerator SNR; None when that SNR
    or the denominator's is not a positive number (a decomposition that failed)."""
    snr, err = (num.snr_total, num.snr_total_err) if total else (num.snr, num.snr_err)
    if not (_positive(snr) and _positive(den.snr)):
        return None
    return spin_ratio_from_snr(
        snr,
        den.snr,
        p.channel(0, num.n_scans, num.bandwidth_hz),
        p.channel(1, den.n_scans, den.bandwidth_hz),
        snr_numerator_err=err,
        snr_denominator_err=den.snr_err,
        p_exponent=p.p_exponent,
    )


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


def _reference_pairs(
    table: pa.Table, pairs: list[tuple[_Measured, _Measured]], p: QuantifyParams
) -> dict[Any, tuple[_Measured, _Measured]]:
    """The reference pair of each cell."""
    cells, ids, times = values(table, "cell"), values(table, "id"), values(table, "acquired_at")
    days = float_values(table, "days_since_synthesis")
    refs: dict[Any, tuple[_Measured, _Measured]] = {}
    for num, den in pairs:
        if p.reference == "ids":
            chosen = ids[num.index] in p.reference_ids and ids[den.index] in p.reference_ids
        else:
            chosen = bool(days[num.index] < 0)
        if not chosen or not (_positive(num.snr) and _positive(den.snr)):
            continue  # a reference whose fit failed calibrates nothing
        cell = cells[num.index]
        if cell not in refs or _ts(times[num.index]) > _ts(times[refs[cell][0].index]):
            refs[cell] = (num, den)
    return refs


def _ts(when: Any) -> float:
    return when.timestamp() if when is not None else -math.inf


def _calibrate(
    p: QuantifyParams, raw: SpinRatio | None, ref: tuple[_Measured, _Measured] | None, total: bool
) -> SpinRatio | None:
    if raw is None or ref is None or p.reference_ratio is None:
        return None
    ref_raw = _raw(p, ref[0], ref[1], total)
    if ref_raw is None:
        return None
    return calibrated_spin_ratio(raw, ref_raw, p.reference_ratio, p.reference_ratio_err)


def quantify_table(table: pa.Table, p: QuantifyParams) -> pa.Table:
    """Process function of ``nmr.quantify``: one row per (numerator, denominator) pair, with
    the counted and the total numerator, first-principles and (given a reference) calibrated.

    ``table`` may also be ``lineshape`` and ``decomposition`` rows concatenated as they are
    (``pa.concat_tables(..., promote_options="permissive")``): they are combined by
    :func:`with_decomposition` first, so a pipeline needs no import of this plugin."""
    table = _combine_mixed(table)
    meas = _measurements(table, p)
    pairs = _pairs(table, meas)
    refs = _reference_pairs(table, pairs, p) if p.reference_ratio is not None else {}
    cols = {n: values(table, n) for n in _PASSED_THROUGH}
    cells, ids = cols["cell"], cols["id"]
    h2 = float_values(table, "h2_fraction")
    h2_err = float_values(table, "h2_fraction_err")
    ref_rows = (
        {m.index for pair in refs.values() for m in pair} if p.mode == "calibrated" else set()
    )
    rows = []
    for num, den in pairs:
        if num.index in ref_rows:
            continue
        cell = cells[num.index]
        ref = refs.get(cell)
        if p.mode == "calibrated" and ref is None:
            rule = "days_since_synthesis < 0" if p.reference == "before_synthesis" else "ids"
            raise ValidationError(f"nmr.quantify: cell {cell!r} has no reference pair ({rule})")
        results = {}
        for total in (False, True):
            raw = _raw(p, num, den, total)
            results[total] = (raw, _calibrate(p, raw, ref, total))
        used = [ids[num.index], ids[den.index]]
        if ref is not None:
            used += [ids[ref[0].index], ids[ref[1].index]]
        flags = []
        if not num.decomposed:
            flags.append("no_decomposition")
        if p.reference_ratio is not None and ref is None:
            flags.append("no_reference")
        if not _positive(num.snr):
            flags.append("numerator_snr_not_positive")
        if not _positive(den.snr):
            flags.append("denominator_snr_not_positive")
        passed = {n: cols[n][num.index] for n in _PASSED_THROUGH}
        extra = {"h2_fraction": float(h2[num.index]), "h2_fraction_err": float(h2_err[num.index])}
        rows.append(passed | _row(p, num, den, results, used, flags) | extra)
    return table_from_rows(rows, float_maps=("factors",)) if rows else empty("quantification")


_PASSED_THROUGH = ("id", "cell", "campaign", "acquired_at", "days_since_synthesis")


def _value(result: SpinRatio | None) -> tuple[float, float]:
    return (result.ratio, result.ratio_err) if result is not None else (math.nan, math.nan)


def _row(
    p: QuantifyParams,
    num: _Measured,
    den: _Measured,
    results: dict[bool, tuple[SpinRatio | None, SpinRatio | None]],
    used: list[str],
    flags: list[str],
) -> dict[str, Any]:
    """Output columns of one pair (the numerator row's identity columns are added by the caller)."""
    counted = "total" if not num.decomposed else p.count
    chosen = results[False][1 if p.mode == "calibrated" else 0]
    shown = chosen or results[False][0]
    ratio, ratio_err = _value(chosen)
    fp, cal = _value(results[False][0]), _value(results[False][1])
    tfp, tcal = _value(results[True][0]), _value(results[True][1])
    return {
        "method": f"nmr.quantify: reciprocity, p = {p.p_exponent:g}, {p.mode}, counts {counted}",
        "input_ids": used,
        "numerator_nucleus": p.numerator,
        "denominator_nucleus": p.denominator,
        "ratio": ratio,
        "ratio_err": ratio_err,
        "mode": p.mode,
        "counted": counted,
        "ratio_first_principles": fp[0],
        "ratio_first_principles_err": fp[1],
        "ratio_calibrated": cal[0],
        "ratio_calibrated_err": cal[1],
        "ratio_total_first_principles": tfp[0],
        "ratio_total_first_principles_err": tfp[1],
        "ratio_total_calibrated": tcal[0],
        "ratio_total_calibrated_err": tcal[1],
        "factors": shown.factors if shown is not None else None,
        "snr_numerator": num.snr,
        "snr_numerator_err": num.snr_err,
        "snr_numerator_total": num.snr_total,
        "snr_numerator_total_err": num.snr_total_err,
        "snr_denominator": den.snr,
        "snr_denominator_err": den.snr_err,
        "numerator_detection": p.numerator_detection,
        "denominator_detection": p.denominator_detection,
        "p_exponent": p.p_exponent,
        "flags": flags,
    }


_AS_LINESHAPE = {
    "snr_time": "snr_total",
    "snr_time_err": "snr_total_err",
}


def _combine_mixed(table: pa.Table) -> pa.Table:
    """Split a concatenation of raw ``decomposition`` rows (they hold ``hydride_amplitude``)
    and ``lineshape`` rows and combine them with :func:`with_decomposition`."""
    if "hydride_amplitude" not in table.column_names:
        return table
    keep = pc.fill_null(pc.starts_with(table.column("method"), "nmr.decompose"), False)
    if not pc.any(keep).as_py():
        return table
    return with_decomposition(table.filter(pc.invert(keep)), table.filter(keep))


def with_decomposition(lineshape: pa.Table, decomposition: pa.Table) -> pa.Table:
    """The input ``nmr.quantify`` expects for hydride-only counting: ``lineshape`` rows (e.g.
    139La, and the 1H rows of cells without a decomposition) plus every ``decomposition`` row
    in the lineshape layout (``snr_time`` = the total SNR; ``snr_hydride``,
    ``snr_metal_hydride``, ``snr_total`` and ``h2_fraction`` with errors as extra columns; the
    ``method`` marks them). Lineshape rows of a (cell, nucleus) that has decomposition rows
    (1H, and e.g. 139La decomposed into its line and a broad component) are left out, so no
    measurement is counted twice."""
    nuclei = [normalize_nucleus(n) if n else None for n in values(decomposition, "nucleus")]
    decomposed = set(zip(values(decomposition, "cell"), nuclei, strict=True))
    keep = [
        (c, normalize_nucleus(n)) not in decomposed if n else True
        for n, c in zip(values(lineshape, "nucleus"), values(lineshape, "cell"), strict=True)
    ]
    base = lineshape.filter(pa.array(keep, pa.bool_())).replace_schema_metadata(None)
    names = (
        "id",
        "cell",
        "campaign",
        "acquired_at",
        "days_since_synthesis",
        "method",
        "input_ids",
        "spectrum_id",
        "nucleus",
        "n_scans",
        "spectral_width_hz",
        "flags",
    )
    cols: dict[str, Any] = {
        n: decomposition.column(n) for n in names if n in decomposition.column_names
    }
    for target, source in _AS_LINESHAPE.items():
        cols[target] = decomposition.column(source)
    for name in ("snr_hydride", "snr_metal_hydride", "snr_total", "h2_fraction"):
        for suffix in ("", "_err"):
            cols[name + suffix] = decomposition.column(name + suffix)
    converted = pa.table(cols)
    return pa.concat_tables([base, converted], promote_options="permissive")
