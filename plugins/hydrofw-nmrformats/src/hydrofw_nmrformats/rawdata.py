"""Plausibility of binary FID data decoded with a header-given type and byte order.

A header with the wrong byte order (or a file from another machine) decodes into numbers
without raising; this check turns that into a :class:`hydrofw.errors.FormatError` instead of
silently wrong data. Integers: real FIDs use far fewer bits than their byte-swapped reading,
so data whose byte-swapped reading is >= 2**12 times smaller (median magnitude) were decoded
in the wrong order. Floats: byte-swapped floats are non-finite, huge or denormal.
"""

from __future__ import annotations

import numpy as np

from hydrofw.errors import FormatError

__all__ = ["check_plausible"]

_SAMPLE = 8192
_INT_RATIO = 2.0**12
_FLOAT_LIMITS = {4: (1e-30, 1e30), 8: (1e-100, 1e100)}


def check_plausible(values: np.ndarray, dtype: np.dtype, where: str, keys: str) -> None:
    """Raise :class:`FormatError` when ``values`` (decoded as ``dtype``) look byte-swapped.

    ``keys`` names the header keys that chose the type and order, for the message.
    """
    sample = np.ravel(values)[:_SAMPLE]
    if dtype.kind == "i":
        nonzero = sample[sample != 0]
        if nonzero.size == 0:
            return
        as_read = np.median(np.abs(nonzero.astype(np.float64)))
        swapped = np.median(np.abs(nonzero.byteswap().astype(np.float64)))
        if as_read > _INT_RATIO * max(swapped, 1.0):
            raise FormatError(
                where, f"data look byte-swapped: the byte order given by {keys} is wrong"
            )
        return
    low, high = _FLOAT_LIMITS[dtype.itemsize]
    magnitude = np.abs(sample.astype(np.float64))
    nonzero = magnitude[magnitude != 0]
    if not np.all(np.isfinite(magnitude)) or np.any(nonzero > high) or np.any(nonzero < low):
        raise FormatError(
            where,
            f"data hold non-finite or absurd floats: type or byte order given by {keys} is wrong",
        )
