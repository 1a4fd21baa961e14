"""The bundled example campaign: a seeded ground truth shaped like the paper, written in the
instruments' own formats (Bruker, Varian, TecMag, SIM921 logs, PPMS .dat) with
``ground_truth.json`` beside it. Entry point: :func:`write_example_campaign`."""

from __future__ import annotations

from .generate import DEFAULT_SEED, write_example_campaign

__all__ = ["write_example_campaign", "DEFAULT_SEED"]
