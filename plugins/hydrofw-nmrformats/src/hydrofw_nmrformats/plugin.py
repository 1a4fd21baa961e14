"""Entry point module of hydrofw_nmrformats (group ``hydrofw``): the four vendor NMR readers."""

from __future__ import annotations

from collections.abc import Callable

from hydrofw import Reader, hookimpl

from . import bruker, jcampdx, tecmag, varian

_READERS = (
    Reader(
        name="bruker",
        table="spectrum",
        sniff=bruker.sniff,
        read=bruker.read,
        description="Bruker XWIN-NMR/TopSpin 1-4 experiment (acqus + fid/ser, pdata/N); "
        "options: nucleus=, processed=",
        formats=("bruker", "topspin", "xwinnmr"),
        extensions=(),
        url="https://www.bruker.com/en/products-and-solutions/mr/nmr-software/topspin.html",
    ),
    Reader(
        name="tecmag",
        table="spectrum",
        sniff=tecmag.sniff,
        read=tecmag.read,
        description="TecMag TNMR/NTNMR .tnt file (TNT1.000-1.008); option: nucleus=",
        formats=("tecmag", "tnt", "tnmr"),
        extensions=(".tnt",),
        url="https://www.tecmag.com",
    ),
    Reader(
        name="varian",
        table="spectrum",
        sniff=varian.sniff,
        read=varian.read,
        description="Varian/Agilent VnmrJ experiment (fid + procpar); option: nucleus=",
        formats=("varian", "agilent", "vnmr"),
        extensions=(".fid",),
        url="https://www.agilent.com",
    ),
    Reader(
        name="jcampdx",
        table="spectrum",
        sniff=jcampdx.sniff,
        read=jcampdx.read,
        description="JCAMP-DX 4.24/5.x/6.0 NMR FID or spectrum (XYDATA, NTUPLES, ASDF, LINK "
        "blocks); option: nucleus=",
        formats=("jcampdx", "jcamp", "jdx"),
        extensions=(".jdx", ".dx", ".jcamp"),
        url="http://www.jcamp-dx.org",
    ),
)


@hookimpl
def hydrofw_register_readers(register: Callable[[Reader], None]) -> None:
    """Register the Bruker, TecMag, Varian and JCAMP-DX readers."""
    for reader in _READERS:
        register(reader)
