"""Entry point module of hydrofw_console (group ``hydrofw``).

Registers one reader ``console.<name>`` per discovered description (packaged and
``HYDROFW_CONSOLE_FORMATS`` folders, read when the plugins load) and a generic ``console``
reader that takes ``description="path/to/format.toml"`` for a description anywhere.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import hydrofw
from hydrofw import Reader, hookimpl
from hydrofw.source import Source

from . import reader
from .description import ConsoleFormat, load_description
from .discovery import discover


def _reader_for(fmt: ConsoleFormat) -> Reader:
    return Reader(
        name=fmt.reader_name,
        table="spectrum",
        sniff=functools.partial(reader.sniff, fmt),
        read=functools.partial(reader.read, fmt),
        description=f"{fmt.description} (described by {Path(fmt.origin).name})",
        formats=(fmt.name,),
        extensions=fmt.extensions,
    )


def read_described(
    source: Source, description: str, nucleus: str | None = None
) -> Iterator[hydrofw.Spectrum]:
    """Read ``source`` with the description in the TOML file ``description``."""
    return reader.read(load_description(description), source, nucleus=nucleus)


@hookimpl
def hydrofw_register_readers(register: Callable[[Reader], None]) -> None:
    """Register ``console`` and one ``console.<name>`` reader per description."""
    register(
        Reader(
            name="console",
            table="spectrum",
            sniff=lambda source: 0.0,
            read=read_described,
            description="home-built console data with an explicit TOML description "
            "(option description=PATH)",
        )
    )
    for fmt in discover().values():
        register(_reader_for(fmt))
