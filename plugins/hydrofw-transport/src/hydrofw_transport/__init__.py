"""hydrofw_transport: a hydrofw plugin distribution."""

__version__ = "0.1.0"
