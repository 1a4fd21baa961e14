"""Entry point module of hydrofw_nmr (group `hydrofw`).

Registers the spectral processors (``nmr.fid_to_spectrum``, ``nmr.reference``,
``nmr.lineshape``) and the physics processors (``relaxation.build``, ``relaxation.fit``,
``nmr.diffusion``, ``nmr.pake_fit``, ``nmr.decompose``, ``nmr.quantify``).
"""

from __future__ import annotations

from collections.abc import Callable

from hydrofw import Processor, hookimpl

from .physics import register_processors as _register_physics
from .spectral import register_processors as _register_spectral


@hookimpl
def hydrofw_register_processors(register: Callable[[Processor], None]) -> None:
    _register_spectral(register)
    _register_physics(register)
