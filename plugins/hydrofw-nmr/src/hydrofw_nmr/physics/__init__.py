"""hydrofw_nmr.physics: relaxation curves and fits, diffusion from T1, Pake doublets, spin counting.

Processors (registered by :func:`register_processors`):

- ``relaxation.build``  spectrum -> relaxation        amplitude per delay with noise errors
- ``relaxation.fit``    relaxation -> relaxation_fit  batched T1/T2 fits, T1/T2 ratio
- ``nmr.diffusion``     relaxation_fit -> diffusion   D from T1 (eq. 1 of the seed, with hbar)
- ``nmr.pake_fit``      spectrum -> pake_fit          H-H distances from a powder lineshape
- ``nmr.decompose``     spectrum -> decomposition     1H FID = metal hydride + H2 + broad line
- ``nmr.quantify``      lineshape -> quantification   spin-number ratio (H/La) from SNRs

The pure functions behind them are public for library users (see ``__all__``).
"""

from __future__ import annotations

from collections.abc import Callable

from hydrofw import Processor

from .batch_fit import BatchFitResult, fit_batch
from .decompose import DecomposeParams, decompose_table, decompose_traces
from .diffusion import (
    PREFACTORS,
    DiffusionParams,
    correlation_time_s,
    diffusion_cgs_cm2_s,
    diffusion_coefficient,
    diffusion_si_m2_s,
    diffusion_table,
    number_density_from_lattice_cm3,
)
from .dipolar import (
    dipolar_coupling_hz,
    distance_from_coupling_angstrom,
    pake_cdf,
    pake_lineshape,
    pake_pattern,
    pake_powder_average,
    second_moment_gaussian_fwhm_hz,
    van_vleck_second_moment,
)
from .lattice import Lattice, bif3_lah3, fm3m_lah10, rigid_lattice_fwhm_hz
from .pake_fit import PakeFitParams, PakeFitResult, fit_pake, pake_fit_table
from .quantify import (
    Channel,
    QuantifyParams,
    SpinRatio,
    attach_acquisition,
    calibrated_spin_ratio,
    detected_fraction,
    quantify_table,
    snr_ratio_from_spin_ratio,
    spin_ratio_from_snr,
    with_decomposition,
)
from .relaxation_build import RelaxationBuildParams, build_relaxation
from .relaxation_fit import RelaxationFitParams, fit_relaxation
from .relaxation_models import MODELS, get_model, model_function

__all__ = [
    "register_processors",
    "MODELS",
    "get_model",
    "model_function",
    "fit_batch",
    "BatchFitResult",
    "RelaxationBuildParams",
    "RelaxationFitParams",
    "build_relaxation",
    "fit_relaxation",
    "PREFACTORS",
    "DiffusionParams",
    "diffusion_coefficient",
    "diffusion_si_m2_s",
    "diffusion_cgs_cm2_s",
    "correlation_time_s",
    "number_density_from_lattice_cm3",
    "diffusion_table",
    "dipolar_coupling_hz",
    "distance_from_coupling_angstrom",
    "pake_pattern",
    "pake_cdf",
    "pake_lineshape",
    "pake_powder_average",
    "van_vleck_second_moment",
    "second_moment_gaussian_fwhm_hz",
    "Lattice",
    "fm3m_lah10",
    "bif3_lah3",
    "rigid_lattice_fwhm_hz",
    "PakeFitParams",
    "PakeFitResult",
    "fit_pake",
    "pake_fit_table",
    "Channel",
    "SpinRatio",
    "QuantifyParams",
    "detected_fraction",
    "calibrated_spin_ratio",
    "attach_acquisition",
    "with_decomposition",
    "DecomposeParams",
    "decompose_table",
    "decompose_traces",
    "spin_ratio_from_snr",
    "snr_ratio_from_spin_ratio",
    "quantify_table",
]


def register_processors(register: Callable[[Processor], None]) -> None:
    """Register the physics processors."""
    register(
        Processor(
            name="relaxation.build",
            input_table="spectrum",
            output_table="relaxation",
            process=build_relaxation,
            params=RelaxationBuildParams,
            description="relaxation curves from series of FIDs/echoes or spectra with delays",
        )
    )
    register(
        Processor(
            name="relaxation.fit",
            input_table="relaxation",
            output_table="relaxation_fit",
            process=fit_relaxation,
            params=RelaxationFitParams,
            description="batched T1/T2 fits (exponential, stretched, biexponential) with errors",
        )
    )
    register(
        Processor(
            name="nmr.diffusion",
            input_table="relaxation_fit",
            output_table="diffusion",
            process=diffusion_table,
            params=DiffusionParams,
            description="self-diffusion coefficient from dipolar T1 (hbar; prefactor selectable)",
        )
    )
    register(
        Processor(
            name="nmr.pake_fit",
            input_table="spectrum",
            output_table="pake_fit",
            process=pake_fit_table,
            params=PakeFitParams,
            description="H-H distances from a broadened Pake powder pattern",
        )
    )
    register(
        Processor(
            name="nmr.decompose",
            input_table="spectrum",
            output_table="decomposition",
            process=decompose_table,
            params=DecomposeParams,
            description="1H FID as metal hydride + molecular H2 (Pake) + broad line, t = 0 "
            "amplitudes",
        )
    )
    register(
        Processor(
            name="nmr.quantify",
            input_table="lineshape",
            output_table="quantification",
            process=quantify_table,
            params=QuantifyParams,
            description="spin-number ratio of two nuclei (e.g. H/La) from time-domain SNRs",
        )
    )
