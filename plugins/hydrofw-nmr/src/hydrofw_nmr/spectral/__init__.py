"""Spectral processing: FID to spectrum, shift referencing, lineshape analysis.

Registers the processors ``nmr.fid_to_spectrum`` (spectrum -> spectrum), ``nmr.reference``
(spectrum -> spectrum) and ``nmr.lineshape`` (spectrum -> lineshape). Reusable numerics (noise,
SNR, axes) live in :mod:`hydrofw_nmr.spectral.numerics`.
"""

from __future__ import annotations

from collections.abc import Callable

from hydrofw import Processor

from . import fid_to_spectrum as _fid
from . import lineshape as _lineshape
from . import referencing as _referencing

__all__ = ["register_processors"]


def register_processors(register: Callable[[Processor], None]) -> None:
    """Register the spectral processors."""
    register(
        Processor(
            name="nmr.fid_to_spectrum",
            input_table="spectrum",
            output_table="spectrum",
            process=_fid.fid_to_spectrum,
            params=_fid.FidToSpectrumParams,
            description="FID/echo to phased spectrum: DC, digital filter, echo top, apodization, "
            "zero fill, FFT, phase (manual/auto/magnitude), baseline",
        )
    )
    register(
        Processor(
            name="nmr.reference",
            input_table="spectrum",
            output_table="spectrum",
            process=_referencing.reference,
            params=_referencing.ReferenceParams,
            description="Shift reference (IUPAC Xi, external compound, internal 63Cu Lenz lens "
            "with DAC shielding correction) with uncertainties; ppm axis",
        )
    )
    register(
        Processor(
            name="nmr.lineshape",
            input_table="spectrum",
            output_table="lineshape",
            process=_lineshape.lineshape,
            params=_lineshape.LineshapeParams,
            description="Peak position (Hz, ppm), FWHM (half height and Lorentzian/Gaussian/Voigt "
            "fit) with errors, integral, time- and frequency-domain SNR",
        )
    )
