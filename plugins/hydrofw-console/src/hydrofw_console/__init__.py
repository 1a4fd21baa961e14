"""hydrofw_console: hydrofw readers for home-built NMR consoles described in TOML.

Modules: :mod:`.description` (load and validate a description), :mod:`.header_syntax` (text
headers), :mod:`.units` (unit conversion), :mod:`.reader` (sniff and read one dataset),
:mod:`.discovery` (packaged and user descriptions) and the entry point :mod:`.plugin`.
"""

__version__ = "0.1.0"
