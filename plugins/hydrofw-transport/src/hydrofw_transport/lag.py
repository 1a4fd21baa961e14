"""Thermal lag of the thermometer from each cooling/warming pair of sweeps of one log.

A thermometer lagging behind the sample reads ``T_s - lag`` while cooling and ``T_s + lag``
while warming (constant sweep rate), so the same transition appears ``2 lag`` higher on the
warming sweep. For each pair of consecutive sweeps of the same file and channel
(``source_sha256``, ``channel``, ``sweep_index`` k and k + 1) with opposite directions,
``lag = (T50_warming - T50_cooling) / 2`` with error ``hypot(err_w, err_c) / 2``. Each sweep is
paired with the following sweep when that forms a pair, else with the preceding one; both
sweeps of a pair carry the same lag and name each other (``lag_partner_id``). Sweeps without
a partner or without a T50 get null.
"""

from __future__ import annotations

import attrs
import numpy as np
import pyarrow as pa

__all__ = ["Lag", "thermal_lag"]


@attrs.frozen
class Lag:
    lag_k: np.ndarray
    lag_k_err: np.ndarray
    partner_id: list[str | None]


def _column(table: pa.Table, name: str) -> list[object]:
    if name not in table.column_names:
        return [None] * table.num_rows
    return table.column(name).to_pylist()


def thermal_lag(table: pa.Table, t50_k: np.ndarray, t50_err: np.ndarray) -> Lag:
    """Lag of every sweep of ``table`` from its pair's T50 (see the module docstring)."""
    n = table.num_rows
    ids = _column(table, "id")
    source = _column(table, "source_sha256")
    channel = _column(table, "channel")
    index = _column(table, "sweep_index")
    direction = _column(table, "sweep")
    where = {
        (source[i], channel[i], index[i]): i
        for i in range(n)
        if source[i] is not None and index[i] is not None
    }
    lag = np.full(n, np.nan)
    err = np.full(n, np.nan)
    partner: list[str | None] = [None] * n
    for i in range(n):
        if source[i] is None or index[i] is None:
            continue
        for step in (1, -1):
            key = (source[i], channel[i], int(index[i]) + step)  # type: ignore[call-overload]
            j = where.get(key)
            if j is None or {direction[i], direction[j]} != {"cooling", "warming"}:
                continue
            warm, cool = (i, j) if direction[i] == "warming" else (j, i)
            lag[i] = 0.5 * (t50_k[warm] - t50_k[cool])
            err[i] = 0.5 * np.hypot(t50_err[warm], t50_err[cool])
            partner[i] = str(ids[j])
            break
    return Lag(lag, err, partner)
