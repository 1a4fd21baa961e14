"""hydrofw_example: the minimal third-party plugin used in the plugin author guide."""

__version__ = "0.1.0"
