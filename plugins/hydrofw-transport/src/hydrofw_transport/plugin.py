"""Entry point module of hydrofw_transport (group ``hydrofw``): readers and the Tc processor."""

from __future__ import annotations

from collections.abc import Callable

from hydrofw import hookimpl
from hydrofw.registry import Processor, Reader

from . import generic, ppms, sim921, tc


@hookimpl
def hydrofw_register_readers(register: Callable[[Reader], None]) -> None:
    register(
        Reader(
            name="sim921",
            table="transport",
            sniff=sim921.sniff,
            read=sim921.read,
            description="SRS SIM921 AC resistance bridge logs (CSV/TSV/whitespace, any lab script)",
            formats=("sim921", "rt-log"),
            extensions=sim921.EXTENSIONS,
            url="https://www.thinksrs.com/products/sim921.html",
        )
    )
    register(
        Reader(
            name="delimited",
            table="transport",
            sniff=generic.sniff,
            read=generic.read,
            description="any delimited R(T) log (format='delimited'; delimiter, header_line, "
            "header_file, columns, skip_bad_lines, current reversal)",
            formats=("delimited", "labview"),
            extensions=sim921.EXTENSIONS,
        )
    )
    register(
        Reader(
            name="ppms",
            table="transport",
            sniff=ppms.sniff,
            read=ppms.read,
            description="Quantum Design PPMS/DynaCool MultiVu .dat resistance files",
            formats=("ppms", "multivu", "dynacool"),
            extensions=ppms.EXTENSIONS,
            url="https://www.qdusa.com/products/ppms.html",
        )
    )


@hookimpl
def hydrofw_register_processors(register: Callable[[Processor], None]) -> None:
    register(
        Processor(
            name="transport.tc",
            input_table="transport",
            output_table="tc",
            process=tc.process,
            params=tc.TcParams,
            description="Tc of each R(T) sweep: onset, 90/50/10 %, zero resistance, max dR/dT",
        )
    )
