"""hydrofw_nmr: NMR processors for hydrofw (spectral processing and relaxation physics)."""

__version__ = "0.1.0"
