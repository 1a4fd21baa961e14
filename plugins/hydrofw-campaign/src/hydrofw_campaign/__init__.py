"""hydrofw_campaign: a hydrofw plugin distribution."""

__version__ = "0.1.0"
