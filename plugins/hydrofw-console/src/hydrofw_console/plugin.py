"""Entry point module of hydrofw_console (group `hydrofw`)."""

from __future__ import annotations
