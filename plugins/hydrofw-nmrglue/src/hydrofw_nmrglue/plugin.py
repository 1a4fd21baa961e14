"""Entry point module of hydrofw_nmrglue (group `hydrofw`)."""

from __future__ import annotations
