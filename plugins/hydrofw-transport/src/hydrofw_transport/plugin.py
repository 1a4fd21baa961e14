"""Entry point module of hydrofw_transport (group `hydrofw`)."""

from __future__ import annotations
