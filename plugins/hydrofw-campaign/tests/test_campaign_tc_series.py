"""Tc time series for every transport.tc criterion, absolute and normalised, per cell."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hydrofw_campaign import series
from hydrofw_campaign.config import KineticsConfig


def _rows() -> list[dict[str, object]]:
    rows = []
    for cell, tc0 in (("A", 160.0), ("B", 120.0)):
        for k in range(3):
            row: dict[str, object] = dict(
                id=f"{cell}{k}", cell=cell, campaign="c", acquired_at=None, sweep="cooling",
                days_since_synthesis=float(k),
            )  # fmt: skip
            for name, offset in (("onset", 6.0), ("90", 5.0), ("50", 0.0), ("10", -5.0)):
                row[f"tc_{name}_k"], row[f"tc_{name}_k_err"] = tc0 + offset - 2.0 * k, 0.1
            row["tc_zero_k"] = None if k == 0 else tc0 - 8.0 - 2.0 * k  # not reached at first
            row["tc_zero_k_err"] = 0.2
            rows.append(row)
    rows.append({**rows[0], "id": "warm", "sweep": "warming", "tc_50_k": 999.0})  # left out
    return rows


def test_every_criterion_becomes_two_series_per_cell() -> None:
    points = list(series._tc_points(pa.Table.from_pylist(_rows())))
    for cell in ("A", "B"):
        for q in series.TC_QUANTITIES:
            got = [p for p in points if p.cell == cell and p.quantity == q]
            assert len(got) == (2 if q.startswith("tc_zero") else 3), (cell, q)
    b50 = sorted(
        (p for p in points if p.cell == "B" and p.quantity == "tc_50_normalised"),
        key=lambda p: p.days_since_synthesis,
    )
    assert [p.value for p in b50] == pytest.approx([1.0, 118.0 / 120.0, 116.0 / 120.0])
    # the zero criterion is normalised to the first sweep where it is defined
    zero = [p for p in points if p.cell == "A" and p.quantity == "tc_zero_normalised"]
    assert sorted(p.value for p in zero) == pytest.approx([148.0 / 150.0, 1.0])
    assert all(p.value != 999.0 for p in points)


def test_default_kinetics_cover_every_criterion() -> None:
    assert set(series.TC_QUANTITIES) <= set(KineticsConfig().quantities)
