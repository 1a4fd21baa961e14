"""Entry point module of hydrofw_campaign (group `hydrofw`)."""

from __future__ import annotations
