"""Periodic lattices of like spins: number density, neighbour distances, rigid-lattice width.

A :class:`Lattice` holds the cell vectors (angstrom, rows) and the fractional coordinates of
every like spin in the cell. Two hydride structures of the seed are provided: Fm-3m LaH10
(H on 8c and 32f (x, x, x)) and BiF3-type LaH3 (H on 8c and 4b), both with La on 4a.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import attrs
import numpy as np

from hydrofw.errors import ParameterError

from .dipolar import second_moment_gaussian_fwhm_hz, van_vleck_second_moment

__all__ = ["Lattice", "fm3m_lah10", "bif3_lah3", "rigid_lattice_fwhm_hz", "FCC_TRANSLATIONS"]

#: Face-centring translations of an F lattice.
FCC_TRANSLATIONS = np.array([[0.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]])
_CM3_PER_ANGSTROM3 = 1e-24


def _as_array(value: object) -> np.ndarray:
    return np.array(value, dtype=float)


@attrs.frozen(eq=False)
class Lattice:
    """Like spins in a periodic cell.

    ``vectors_angstrom`` (3, 3): cell vectors as rows. ``sites`` (n, 3): fractional coordinates
    of the spins. ``formula_units``: formula units per cell (for per-formula-unit counts).
    """

    vectors_angstrom: np.ndarray = attrs.field(converter=_as_array)
    sites: np.ndarray = attrs.field(converter=_as_array)
    formula_units: float = 1.0
    name: str = ""

    def __attrs_post_init__(self) -> None:
        if self.vectors_angstrom.shape != (3, 3) or abs(np.linalg.det(self.vectors_angstrom)) == 0:
            raise ParameterError("Lattice: vectors_angstrom must be three independent 3-vectors")
        if self.sites.ndim != 2 or self.sites.shape[1] != 3 or len(self.sites) == 0:
            raise ParameterError("Lattice: sites must be an (n, 3) array of fractional coordinates")

    @classmethod
    def cubic(
        cls, a_angstrom: float, sites: np.ndarray, formula_units: float = 1.0, name: str = ""
    ) -> Lattice:
        """A cubic cell of edge ``a_angstrom``."""
        if not a_angstrom > 0:
            raise ParameterError(f"Lattice: lattice constant must be positive, got {a_angstrom}")
        return cls(np.eye(3) * a_angstrom, sites, formula_units, name)

    @property
    def volume_angstrom3(self) -> float:
        return float(abs(np.linalg.det(self.vectors_angstrom)))

    @property
    def number_density_cm3(self) -> float:
        """Spins per cm^3."""
        return len(self.sites) / (self.volume_angstrom3 * _CM3_PER_ANGSTROM3)

    def neighbour_distances(self, cutoff_angstrom: float = 15.0) -> list[np.ndarray]:
        """Distances (angstrom, sorted) from each site to every other spin within the cutoff."""
        vec = self.vectors_angstrom
        heights = self.volume_angstrom3 / np.linalg.norm(
            np.cross(vec[[1, 2, 0]], vec[[2, 0, 1]]), axis=1
        )
        reach = [int(math.ceil(cutoff_angstrom / h)) + 1 for h in heights]
        shifts = np.array(list(itertools.product(*(range(-n, n + 1) for n in reach))), dtype=float)
        images = (self.sites[None, :, :] + shifts[:, None, :]).reshape(-1, 3) @ vec
        origins = self.sites @ vec
        out = []
        for origin in origins:
            d = np.linalg.norm(images - origin, axis=1)
            out.append(np.sort(d[(d > 1e-9) & (d <= cutoff_angstrom)]))
        return out

    def closest_distance_angstrom(self) -> float:
        """Shortest spin-spin distance."""
        return float(
            min(d[0] for d in self.neighbour_distances(cutoff_angstrom=self._short_cutoff()))
        )

    def _short_cutoff(self) -> float:
        return float(np.linalg.norm(self.vectors_angstrom, axis=1).max())

    def second_moment(self, nucleus: str = "1H", cutoff_angstrom: float = 15.0) -> float:
        """Van Vleck M2 (rad^2/s^2) averaged over the sites of the cell (rigid lattice)."""
        moments = [
            van_vleck_second_moment(d, nucleus) for d in self.neighbour_distances(cutoff_angstrom)
        ]
        return float(np.mean(moments))

    def rigid_lattice_fwhm_hz(self, nucleus: str = "1H", cutoff_angstrom: float = 15.0) -> float:
        """FWHM (Hz) of the Gaussian with the lattice's van Vleck second moment."""
        return second_moment_gaussian_fwhm_hz(self.second_moment(nucleus, cutoff_angstrom))


def _f_centred(points: list[list[float]]) -> np.ndarray:
    base = np.array(points, dtype=float)
    return np.mod((FCC_TRANSLATIONS[:, None, :] + base[None, :, :]).reshape(-1, 3), 1.0)


def fm3m_lah10(a_angstrom: float = 5.10, x: float = 0.12) -> Lattice:
    """Protons of Fm-3m LaH10: 8c (1/4, 1/4, 1/4) and 32f (x, x, x); 4 formula units per cell."""
    site_8c = [[0.25, 0.25, 0.25], [0.75, 0.75, 0.75]]
    site_32f = [list(s) for s in itertools.product((x, -x), repeat=3)]
    sites = np.vstack([_f_centred(site_8c), _f_centred(site_32f)])
    return Lattice.cubic(a_angstrom, sites, formula_units=4.0, name=f"Fm-3m LaH10 (x = {x})")


def bif3_lah3(a_angstrom: float = 5.6) -> Lattice:
    """Protons of BiF3-type (Fm-3m) LaH3: 8c and 4b (1/2, 1/2, 1/2); 4 formula units per cell."""
    sites = np.vstack(
        [_f_centred([[0.25, 0.25, 0.25], [0.75, 0.75, 0.75]]), _f_centred([[0.5, 0.5, 0.5]])]
    )
    return Lattice.cubic(a_angstrom, sites, formula_units=4.0, name="BiF3-type LaH3")


def rigid_lattice_fwhm_hz(
    source: Lattice | Sequence[float] | np.ndarray,
    nucleus: str = "1H",
    cutoff_angstrom: float = 15.0,
) -> float:
    """Gaussian FWHM (Hz) of the van Vleck second moment of a lattice (averaged over its sites)
    or of one spin with like neighbours at the given distances (angstrom)."""
    if isinstance(source, Lattice):
        return source.rigid_lattice_fwhm_hz(nucleus, cutoff_angstrom)
    return second_moment_gaussian_fwhm_hz(van_vleck_second_moment(source, nucleus))
