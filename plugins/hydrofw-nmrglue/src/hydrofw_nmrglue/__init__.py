"""hydrofw_nmrglue: a hydrofw plugin distribution."""

__version__ = "0.1.0"
