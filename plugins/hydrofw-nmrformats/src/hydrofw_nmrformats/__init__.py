"""hydrofw_nmrformats: hydrofw readers for Bruker, TecMag, Varian/Agilent and JCAMP-DX NMR data.

Modules: one per format (:mod:`.bruker`, :mod:`.tecmag`, :mod:`.varian`, :mod:`.jcampdx`),
shared helpers (:mod:`.header` typed header access, :mod:`.jcamp_text` JCAMP labelled
records, :mod:`.asdf` JCAMP data tables, :mod:`.rawdata` binary plausibility,
:mod:`.normalize` normalised metadata and record building) and the entry point :mod:`.plugin`.
"""

__version__ = "0.1.0"
