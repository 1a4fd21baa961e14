"""Processor ``nmr.reference`` and the shift-referencing physics (IUPAC 2001; DESIGN.md sec. 8).

``delta_ppm = (nu - nu_ref) / nu_ref * 1e6``. The frequency of 0 ppm, ``nu_ref``, comes from

* ``method="xi"``: ``Xi / 100 * nu(1H, TMS)`` with the nucleus' IUPAC frequency ratio
  (``hydrofw.nuclei``), e.g. 139La (LaCl3 aq) at 395 MHz: 55.796 MHz;
* ``method="external"``: a reference line measured at ``reference_line_hz`` (absolute
  frequency) whose known shift is ``reference_line_ppm``: ``nu_ref = nu_line / (1 + delta)``.

Internal correction with the Lenz-lens 63Cu line: with ``nu_Cu,DAC`` measured in the cell and
``nu_Cu,amb`` of metallic Cu outside any cell at the same field, the cell's extra shielding is
``sigma_DAC = 1 - nu_Cu,DAC / nu_Cu,amb`` and every reference frequency is scaled by
``(1 - sigma_DAC)``, i.e. ``delta_corr = (1 + delta_raw) / (1 - sigma_DAC) - 1``. The copper
Knight shift cancels. Uncertainties of all inputs propagate (first order) into
``reference_frequency_hz_err`` (and from there into the shift errors of ``nmr.lineshape``).

Plausibility: every row whose whole spectral window (carrier +- half the spectral width) lies
outside the plausible shift range of its nucleus (:data:`PLAUSIBLE_SHIFT_PPM`) gets the flag
``shift_implausible`` and a :class:`ImplausibleShiftWarning`: such a shift is not physics but a
wrong field, proton frequency or nucleus (a 500 MHz 1H spectrum referenced with
``field_t = 9.4`` sits at +249,467 ppm).
"""

from __future__ import annotations

import math
import warnings

import attrs
import numpy as np
import pyarrow as pa

from hydrofw.errors import ParameterError, ProcessingError
from hydrofw.nuclei import nucleus as nucleus_data

from .batching import axis_in_hz, column_or, require_columns, set_columns
from .numerics import hz_to_ppm
from .params import non_negative, one_of, positive

__all__ = [
    "ReferenceParams",
    "reference",
    "xi_reference_frequency_hz",
    "dac_shielding",
    "corrected_shift_ppm",
    "reference_frequency",
    "PLAUSIBLE_SHIFT_PPM",
    "DEFAULT_PLAUSIBLE_SHIFT_PPM",
    "ImplausibleShiftWarning",
    "plausible_shift_ppm",
    "window_outside_plausible",
]

#: Largest plausible |shift| (ppm, against the nucleus' IUPAC reference) per nucleus: the
#: chemical-shift range with a wide margin for paramagnetic and Knight shifts (1H: chemical
#: shifts span ~20 ppm, paramagnetic ones a few hundred; metallic hydrides stay well inside).
PLAUSIBLE_SHIFT_PPM: dict[str, float] = {
    "1H": 1000.0,
    "2H": 1000.0,
    "3H": 1000.0,
    "6Li": 1000.0,
    "7Li": 1000.0,
    "10B": 1000.0,
    "11B": 1000.0,
    "13C": 2000.0,
    "14N": 2000.0,
    "15N": 2000.0,
    "19F": 2000.0,
    "17O": 5000.0,
}
#: Any other nucleus: 5 % (50,000 ppm) covers chemical shifts of heavy nuclei (~1e4 ppm) and
#: the largest metallic Knight shifts (195Pt ~ -3.4 %; 139La in LaH3 ~ +2800 ppm).
DEFAULT_PLAUSIBLE_SHIFT_PPM = 50000.0


class ImplausibleShiftWarning(UserWarning):
    """A referenced shift lies outside the plausible range of its nucleus."""


def plausible_shift_ppm(nucleus: str) -> float:
    """Largest plausible |shift| in ppm of ``nucleus`` (see :data:`PLAUSIBLE_SHIFT_PPM`)."""
    return PLAUSIBLE_SHIFT_PPM.get(nucleus, DEFAULT_PLAUSIBLE_SHIFT_PPM)


def window_outside_plausible(
    nuclei: np.ndarray,
    observe_frequency_hz: np.ndarray,
    spectral_width_hz: np.ndarray,
    reference_frequency_hz: np.ndarray,
) -> np.ndarray:
    """True where the whole window carrier +- spectral_width/2 lies outside the nucleus'
    plausible range (no line in the spectrum can have a plausible shift)."""
    half = np.nan_to_num(np.abs(spectral_width_hz) / 2.0)
    lo = hz_to_ppm(-half, observe_frequency_hz, reference_frequency_hz)
    hi = hz_to_ppm(half, observe_frequency_hz, reference_frequency_hz)
    limit = np.array([plausible_shift_ppm(str(n)) for n in nuclei], dtype=float)
    return np.asarray((lo > limit) | (hi < -limit), dtype=bool)


def xi_reference_frequency_hz(nucleus: str, proton_tms_frequency_hz: float) -> float:
    """Frequency (Hz) of the IUPAC reference compound of ``nucleus``: Xi/100 * nu(1H, TMS)."""
    return nucleus_data(nucleus).xi_percent / 100.0 * proton_tms_frequency_hz


def dac_shielding(
    copper_dac_hz: float,
    copper_ambient_hz: float,
    copper_dac_hz_err: float = 0.0,
    copper_ambient_hz_err: float = 0.0,
) -> tuple[float, float]:
    """``(sigma_DAC, error)`` (fractions) from the 63Cu line inside and outside the cell."""
    sigma = 1.0 - copper_dac_hz / copper_ambient_hz
    err = math.hypot(
        copper_dac_hz_err / copper_ambient_hz,
        copper_dac_hz * copper_ambient_hz_err / copper_ambient_hz**2,
    )
    return sigma, err


def corrected_shift_ppm(raw_shift_ppm: np.ndarray | float, sigma_dac_ppm: float) -> np.ndarray:
    """Shift against a reference scaled by ``(1 - sigma_DAC)``: ``(1 + d)/(1 - s) - 1`` in ppm."""
    d = np.asarray(raw_shift_ppm, float) * 1e-6
    return ((1.0 + d) / (1.0 - sigma_dac_ppm * 1e-6) - 1.0) * 1e6


@attrs.frozen(kw_only=True)
class ReferenceParams:
    """Parameters of ``nmr.reference``; frequencies are absolute, in Hz, errors one sigma."""

    method: str = attrs.field(default="xi", validator=one_of("xi", "external"))
    proton_tms_frequency_hz: float | None = attrs.field(default=None, validator=positive)
    proton_tms_frequency_hz_err: float = attrs.field(
        default=0.0, converter=float, validator=non_negative
    )
    reference_line_hz: float | None = attrs.field(default=None, validator=positive)
    reference_line_hz_err: float = attrs.field(default=0.0, converter=float, validator=non_negative)
    reference_line_ppm: float = attrs.field(default=0.0, converter=float)
    reference_compound: str | None = None  #: free text stored in the output, e.g. "LaCl3 (aq)"
    copper_dac_hz: float | None = attrs.field(default=None, validator=positive)
    copper_dac_hz_err: float = attrs.field(default=0.0, converter=float, validator=non_negative)
    copper_ambient_hz: float | None = attrs.field(default=None, validator=positive)
    copper_ambient_hz_err: float = attrs.field(default=0.0, converter=float, validator=non_negative)
    axis: str = attrs.field(default="ppm", validator=one_of("ppm", "Hz"))

    def __attrs_post_init__(self) -> None:
        if self.method == "xi" and self.proton_tms_frequency_hz is None:
            raise ParameterError("method='xi' needs proton_tms_frequency_hz (1H of TMS, Hz)")
        if self.method == "external" and self.reference_line_hz is None:
            raise ParameterError("method='external' needs reference_line_hz (absolute, Hz)")
        if (self.copper_dac_hz is None) != (self.copper_ambient_hz is None):
            raise ParameterError(
                "the 63Cu correction needs both copper_dac_hz and copper_ambient_hz"
            )


def reference_frequency(
    nucleus: str, params: ReferenceParams
) -> tuple[float, float, float, float, str]:
    """``(nu_ref_hz, nu_ref_err_hz, sigma_dac_ppm, sigma_dac_err_ppm, description)``."""
    if params.method == "xi":
        assert params.proton_tms_frequency_hz is not None
        base = xi_reference_frequency_hz(nucleus, params.proton_tms_frequency_hz)
        rel = params.proton_tms_frequency_hz_err / params.proton_tms_frequency_hz
        what = f"Xi {nucleus_data(nucleus).reference_compound}"
    else:
        assert params.reference_line_hz is not None
        base = params.reference_line_hz / (1.0 + params.reference_line_ppm * 1e-6)
        rel = params.reference_line_hz_err / params.reference_line_hz
        what = f"external {params.reference_compound or 'reference line'}"
    sigma, sigma_err = 0.0, 0.0
    if params.copper_dac_hz is not None and params.copper_ambient_hz is not None:
        sigma, sigma_err = dac_shielding(
            params.copper_dac_hz,
            params.copper_ambient_hz,
            params.copper_dac_hz_err,
            params.copper_ambient_hz_err,
        )
        what += f", 63Cu Lenz-lens DAC shielding {sigma * 1e6:.1f} ppm"
    ref = base * (1.0 - sigma)
    err = ref * math.hypot(rel, sigma_err / (1.0 - sigma))
    return ref, err, sigma * 1e6, sigma_err * 1e6, what


def reference(table: pa.Table, params: ReferenceParams) -> pa.Table:
    """Set the reference frequency (with error) of every row; frequency rows get a ppm axis."""
    require_columns(table, ["nucleus", "observe_frequency_hz", "x_unit"], "nmr.reference")
    nuclei = table.column("nucleus").to_numpy(zero_copy_only=False)
    if params.method == "external" and len(set(nuclei)) > 1:
        raise ProcessingError(
            "nmr.reference: an external reference line serves one nucleus, "
            f"the table holds {sorted(set(nuclei))}"
        )
    rows = table.num_rows
    ref = np.empty(rows)
    err = np.empty(rows)
    sigma = np.empty(rows)
    sigma_err = np.empty(rows)
    what = np.empty(rows, dtype=object)
    for name in set(nuclei):  # one reference per nucleus
        sel = nuclei == name
        ref[sel], err[sel], sigma[sel], sigma_err[sel], what[sel] = reference_frequency(
            name, params
        )
    obs = column_or(table, "observe_frequency_hz", np.nan)
    unit = table.column("x_unit").to_numpy(zero_copy_only=False)
    start, step = column_or(table, "x_start", 0.0), column_or(table, "x_step", 1.0)
    start_hz, step_hz = axis_in_hz(table)  # back to Hz offsets, then to the requested axis
    freq = unit != "s"
    if params.axis == "ppm":
        new_start = np.where(freq, hz_to_ppm(start_hz, obs, ref), start)
        new_step = np.where(freq, step_hz / ref * 1e6, step)
        new_unit = np.where(freq, "ppm", unit)
    else:
        new_start, new_step, new_unit = (
            np.where(freq, start_hz, start),
            np.where(freq, step_hz, step),
            np.where(freq, "Hz", unit),
        )
    sw = column_or(table, "spectral_width_hz", 0.0)
    implausible = window_outside_plausible(nuclei, obs, sw, ref)
    flags = _with_flag(table, implausible, "shift_implausible")
    for name in sorted(set(nuclei[implausible])):
        sel = implausible & (nuclei == name)
        carrier = hz_to_ppm(0.0, obs[sel], ref[sel])
        warnings.warn(
            f"nmr.reference: {int(sel.sum())} {name} spectra have their carrier at "
            f"{np.median(carrier):,.0f} ppm, outside the plausible +-"
            f"{plausible_shift_ppm(name):,.0f} ppm (check field_t / proton_frequency_hz, the "
            "nucleus and the reference); rows flagged shift_implausible",
            ImplausibleShiftWarning,
            stacklevel=2,
        )
    return set_columns(
        table,
        {
            "flags": flags,
            "reference_frequency_hz": pa.array(ref),
            "reference_frequency_hz_err": pa.array(err),
            "reference": pa.array(what.tolist(), pa.string()),
            "dac_shielding_ppm": pa.array(sigma),
            "dac_shielding_ppm_err": pa.array(sigma_err),
            "x_start": pa.array(new_start),
            "x_step": pa.array(new_step),
            "x_unit": pa.array(new_unit.tolist(), pa.string()),
        },
    )


def _with_flag(table: pa.Table, raised: np.ndarray, flag: str) -> pa.Array:
    """The ``flags`` column with ``flag`` added (once) where ``raised``."""
    old = (
        table.column("flags").to_pylist()
        if "flags" in table.column_names
        else [None] * table.num_rows
    )
    out = []
    for flags, up in zip(old, raised, strict=True):
        kept = [f for f in (flags or []) if f != flag]
        out.append(kept + [flag] if up else kept)
    return pa.array(out, pa.list_(pa.string()))
