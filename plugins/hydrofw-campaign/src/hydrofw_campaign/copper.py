"""In-cell referencing: the DAC shielding of each session from the cell's 63Cu Lenz-lens line.

The lens of every DAC is metallic copper; its 63Cu (or 65Cu) line, measured in the cell each
session, against the same metal outside any cell at the same field (``[copper_reference]``),
gives the extra shielding of B0 inside the DAC (physics.md section 5)::

    sigma_DAC = 1 - nu_Cu,DAC / nu_Cu,ambient

(the metallic-Cu Knight shift cancels). A *session* is one sitting of a cell in the magnet: its
acquisitions with no gap longer than :data:`SESSION_GAP_S` (6 h) between them, so a session that
runs past midnight stays one. It is named by the calendar day of its first acquisition on the
console clock (``[cells.acquisition] timezone``; UTC without one). Several Cu lines of a
session are combined by their weighted mean, the error inflated by sqrt(reduced chi^2) when
they scatter more than their errors say. The ambient line's error is common to every session
and is added in quadrature. A session without a Cu line takes the session nearest in time and
is flagged ``nearest_session``; its error then includes the drift of sigma_DAC over the time
gap, estimated from the measured sessions on either side. Cu lines whose lineshape fit failed
(flag ``fit_failed``) have no reliable position and are left out (named in the run's notes).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence

import attrs
import numpy as np
import pyarrow as pa

from hydrofw.ids import content_id

from .config import COPPER_NUCLEI, CampaignConfig

__all__ = [
    "SESSION_GAP_S",
    "Sessions",
    "Shielding",
    "session_of",
    "combine_shielding",
    "session_shieldings",
    "to_table",
]

NEAREST = "nearest_session"

#: Longest gap (s) between two acquisitions of one session.
SESSION_GAP_S = 6 * 3600.0


@attrs.frozen
class Sessions:
    """The sessions of every cell: ``(first_s, last_s, name, median time)`` sorted by time."""

    by_cell: Mapping[str, tuple[tuple[float, float, str, dt.datetime], ...]]

    @classmethod
    def from_times(
        cls,
        cells: Sequence[str | None],
        times: Sequence[dt.datetime | None],
        zones: Mapping[str, dt.tzinfo | None],
    ) -> Sessions:
        """Sessions of the acquisitions (``cells[i]`` at ``times[i]``); ``zones``: console
        clock zone of each cell (for the names)."""
        per: dict[str, list[float]] = {}
        for cell, when in zip(cells, times, strict=True):
            if cell is not None and when is not None:
                per.setdefault(cell, []).append(when.timestamp())
        out: dict[str, tuple[tuple[float, float, str, dt.datetime], ...]] = {}
        for cell, stamps in per.items():
            t = np.sort(np.asarray(stamps))
            breaks = np.flatnonzero(np.diff(t) > SESSION_GAP_S) + 1
            groups = np.split(t, breaks)
            named: list[tuple[float, float, str, dt.datetime]] = []
            used: dict[str, int] = {}
            for g in groups:
                first = dt.datetime.fromtimestamp(float(g[0]), dt.UTC)
                name = session_of(first, zones.get(cell))
                used[name] = used.get(name, 0) + 1
                if used[name] > 1:
                    name = f"{name}#{used[name]}"
                median = dt.datetime.fromtimestamp(float(np.median(g)), dt.UTC)
                named.append((float(g[0]), float(g[-1]), name, median))
            out[cell] = tuple(named)
        return cls(out)

    def name(self, cell: str | None, when: dt.datetime | None) -> str | None:
        """The session of ``cell`` holding ``when`` (the nearest one in time if none does)."""
        spans = self.by_cell.get(cell) if cell is not None else None
        if not spans or when is None:
            return None
        t = when.timestamp()
        def distance(span: tuple[float, float, str, dt.datetime]) -> float:
            return 0.0 if span[0] <= t <= span[1] else min(abs(t - span[0]), abs(t - span[1]))

        return min(spans, key=distance)[2]

    def medians(self) -> dict[str, dict[str, dt.datetime]]:
        """``{cell: {session: median acquisition time}}``."""
        return {c: {s[2]: s[3] for s in spans} for c, spans in self.by_cell.items()}


@attrs.frozen
class Shielding:
    """sigma_DAC of one cell and session (fractions are ppm here)."""

    cell: str
    session: str  #: the session the value applies to (day of its start, console clock)
    session_at: dt.datetime  #: median acquisition time of the session's data (UTC)
    source_session: str  #: the day whose Cu lines were used
    cu_acquired_at: dt.datetime  #: mean time of those Cu lines (UTC)
    nucleus: str
    sigma_dac_ppm: float
    sigma_dac_ppm_err: float
    statistical_err_ppm: float  #: from the DAC line positions alone
    cu_frequency_hz: float  #: effective in-cell line: ambient * (1 - sigma)
    cu_frequency_hz_err: float  #: its statistical error
    cu_ambient_frequency_hz: float
    cu_ambient_frequency_hz_err: float
    n_lines: int
    reduced_chi2: float | None
    input_ids: tuple[str, ...]
    flags: tuple[str, ...] = ()


def session_of(when: dt.datetime, tz: dt.tzinfo | None) -> str:
    """Calendar day (ISO) of ``when`` on the console clock (UTC when ``tz`` is None)."""
    return when.astimezone(tz or dt.UTC).date().isoformat()


def combine_shielding(
    sigma: np.ndarray, err: np.ndarray
) -> tuple[float, float, float | None]:
    """Weighted mean of per-line sigma values (any unit) and its error, inflated by
    sqrt(reduced chi^2) when above 1; the reduced chi^2 (None for one line)."""
    w = 1.0 / err**2
    mean = float(np.sum(w * sigma) / np.sum(w))
    mean_err = float(1.0 / math.sqrt(np.sum(w)))
    if sigma.size < 2:
        return mean, mean_err, None
    chi2 = float(np.sum(w * (sigma - mean) ** 2) / (sigma.size - 1))
    return mean, mean_err * math.sqrt(max(chi2, 1.0)), chi2


def _ambient(
    config: CampaignConfig, cell: str, nucleus: str
) -> tuple[float, float] | None:
    """Ambient Cu line (Hz, err) of isotope ``nucleus`` for ``cell``."""
    if config.copper is not None:
        return config.copper.ambient_hz(nucleus, config.campaign.proton_frequency_hz)
    refs = [*config.cell(cell).references.values(), *config.references.values()]
    for ref in refs:
        if ref.kind == "internal_cu" and ref.cu_ambient_frequency_hz is not None:
            return ref.cu_ambient_frequency_hz, ref.cu_ambient_frequency_err_hz
    return None


def session_shieldings(
    config: CampaignConfig,
    cu_lines: pa.Table,
    sessions: Sessions,
) -> tuple[dict[tuple[str, str], Shielding], list[str]]:
    """sigma_DAC per (cell, session) for every session of a cell with Cu lines, and notes on
    lines that could not be used.

    ``cu_lines``: ``lineshape`` rows of the Cu FIDs (``observe_frequency_hz + peak_hz`` is the
    absolute line frequency, ``peak_hz_err`` its error)."""
    notes: list[str] = []
    by_session: dict[tuple[str, str], list[tuple[float, float, float, float, float, str]]] = {}
    reference_hz: dict[str, tuple[float, float]] = {}
    skipped: dict[str, int] = {}
    for row in cu_lines.to_pylist():
        cell, nucleus = row["cell"], row["nucleus"]
        if nucleus not in COPPER_NUCLEI or cell is None or row["acquired_at"] is None:
            continue
        nu = (row["observe_frequency_hz"] or math.nan) + (row["peak_hz"] or math.nan)
        err = row["peak_hz_err"]
        failed = "fit_failed" in (row.get("flags") or [])
        if failed or not (math.isfinite(nu) and err is not None and err > 0 and math.isfinite(err)):
            skipped[cell] = skipped.get(cell, 0) + 1
            continue
        amb = _ambient(config, cell, nucleus)
        if amb is None:
            continue
        amb63 = _ambient(config, cell, "63Cu")
        assert amb63 is not None
        reference_hz[cell] = amb63
        name = sessions.name(cell, row["acquired_at"])
        if name is None:
            continue
        key = (cell, name)
        by_session.setdefault(key, []).append(
            (1.0 - nu / amb[0], err / amb[0], amb[1] / amb[0], row["acquired_at"].timestamp(),
             nu, row["id"])
        )
    for cell, n in sorted(skipped.items()):
        notes.append(
            f"cell {cell}: {n} Cu line(s) without a fitted position (lineshape fit_failed) left "
            "out of sigma_DAC; their sessions use the nearest session (flag nearest_session)"
        )
    measured: dict[tuple[str, str], Shielding] = {}
    for (cell, session), lines in by_session.items():
        sigma = np.array([x[0] for x in lines])
        err = np.array([x[1] for x in lines])
        mean, stat, chi2 = combine_shielding(sigma, err)
        amb_rel = float(np.mean([x[2] for x in lines]))
        total = math.hypot(stat, (1.0 - mean) * amb_rel)
        amb_hz, amb_err = reference_hz[cell]
        when = dt.datetime.fromtimestamp(float(np.mean([x[3] for x in lines])), dt.UTC)
        measured[(cell, session)] = Shielding(
            cell=cell,
            session=session,
            session_at=when,
            source_session=session,
            cu_acquired_at=when,
            nucleus="63Cu",
            sigma_dac_ppm=mean * 1e6,
            sigma_dac_ppm_err=total * 1e6,
            statistical_err_ppm=stat * 1e6,
            cu_frequency_hz=amb_hz * (1.0 - mean),
            cu_frequency_hz_err=amb_hz * stat,
            cu_ambient_frequency_hz=amb_hz,
            cu_ambient_frequency_hz_err=amb_err,
            n_lines=len(lines),
            reduced_chi2=chi2,
            input_ids=tuple(x[5] for x in lines),
        )
    out: dict[tuple[str, str], Shielding] = {}
    for cell, days in sessions.medians().items():
        own = {s: v for (c, s), v in measured.items() if c == cell}
        if not own:
            continue
        for session, when in days.items():
            if session in own:
                out[(cell, session)] = attrs.evolve(own[session], session_at=when)
                continue
            out[(cell, session)] = _nearest(list(own.values()), session, when)
        for session, value in own.items():  # Cu-only days
            out.setdefault((cell, session), value)
    return out, notes


def _nearest(own: list[Shielding], session: str, when: dt.datetime) -> Shielding:
    """The measured session nearest in time, flagged; its error grows by the drift of sigma_DAC
    over the gap, estimated from the measured sessions on both sides of ``when`` (if any)."""
    t = when.timestamp()
    nearest = min(own, key=lambda v: abs(v.cu_acquired_at.timestamp() - t))
    before = [v for v in own if v.cu_acquired_at.timestamp() <= t]
    after = [v for v in own if v.cu_acquired_at.timestamp() > t]
    drift_ppm = 0.0
    if before and after:
        a = max(before, key=lambda v: v.cu_acquired_at)
        b = min(after, key=lambda v: v.cu_acquired_at)
        span = b.cu_acquired_at.timestamp() - a.cu_acquired_at.timestamp()
        slope = (b.sigma_dac_ppm - a.sigma_dac_ppm) / span
        drift_ppm = abs(slope * (t - nearest.cu_acquired_at.timestamp()))
    stat = math.hypot(nearest.statistical_err_ppm, drift_ppm)
    return attrs.evolve(
        nearest,
        session=session,
        session_at=when,
        flags=(NEAREST,),
        sigma_dac_ppm_err=math.hypot(nearest.sigma_dac_ppm_err, drift_ppm),
        statistical_err_ppm=stat,
        cu_frequency_hz_err=nearest.cu_ambient_frequency_hz * stat * 1e-6,
    )


def to_table(
    values: Sequence[Shielding], campaign: str
) -> pa.Table:
    """The ``dac_shielding`` rows (``days_since_synthesis`` is filled by the pipeline)."""
    rows = []
    for v in sorted(values, key=lambda v: (v.cell, v.session)):
        rows.append(
            {
                "id": content_id(
                    "dac_shielding", v.cell, v.session, v.sigma_dac_ppm, v.sigma_dac_ppm_err,
                    *v.input_ids,
                ),
                "cell": v.cell,
                "campaign": campaign,
                "acquired_at": v.session_at,
                "session": v.session,
                "method": "campaign: sigma_DAC = 1 - nu_Cu,DAC / nu_Cu,ambient (63Cu Lenz lens)",
                "input_ids": list(v.input_ids),
                "nucleus": v.nucleus,
                "sigma_dac_ppm": v.sigma_dac_ppm,
                "sigma_dac_ppm_err": v.sigma_dac_ppm_err,
                "statistical_err_ppm": v.statistical_err_ppm,
                "cu_frequency_hz": v.cu_frequency_hz,
                "cu_frequency_hz_err": v.cu_frequency_hz_err,
                "cu_ambient_frequency_hz": v.cu_ambient_frequency_hz,
                "cu_ambient_frequency_hz_err": v.cu_ambient_frequency_hz_err,
                "n_lines": v.n_lines,
                "reduced_chi2": v.reduced_chi2,
                "source_session": v.source_session,
                "cu_acquired_at": v.cu_acquired_at,
                "flags": list(v.flags),
            }
        )
    return pa.Table.from_pylist(rows)
