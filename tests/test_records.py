"""Records: validation on construction and the lossless record -> Arrow -> Parquet trip."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hydrofw
from hydrofw.errors import ValidationError

floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
arrays = st.integers(0, 40).flatmap(lambda n: hnp.arrays(np.float64, n, elements=floats))
finite_pos = st.floats(1e-3, 1e12, allow_nan=False)
times = st.datetimes(
    min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)
text = st.text(max_size=12)
opt = lambda s: st.none() | s  # noqa: E731


def _parquet_trip(table):
    buf = io.BytesIO()
    pq.write_table(table, buf)
    buf.seek(0)
    return pq.read_table(buf)


@st.composite
def spectra(draw):
    re = draw(arrays)
    im = draw(hnp.arrays(np.float64, re.size, elements=floats))
    return hydrofw.Spectrum(
        nucleus=draw(st.sampled_from(["1H", "139La", "63Cu", "H1", "La139"])),
        observe_frequency_hz=draw(finite_pos),
        spectral_width_hz=draw(finite_pos),
        re=re,
        im=im,
        domain=draw(st.sampled_from(["time", "frequency"])),
        x_start=draw(st.floats(allow_nan=False, allow_infinity=False)),
        n_scans=draw(opt(st.integers(1, 2**40))),
        cell=draw(opt(text)),
        acquired_at=draw(opt(times)),
        array_value=draw(opt(floats)),
        flags=draw(st.lists(text, max_size=3)),
        parameters=draw(st.dictionaries(text, text, max_size=4)),
        history=[hydrofw.HistoryStep(s, "p", "1", "{}") for s in draw(st.lists(text, max_size=2))],
    )


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(spectra(), min_size=1, max_size=4))
def test_spectrum_round_trip_is_exact(records):
    back = hydrofw.from_table(_parquet_trip(hydrofw.to_table(records)))
    assert back == records
    for a, b in zip(records, back, strict=True):  # bit-exact, NaN payloads and signed zeros too
        assert a.re.tobytes() == b.re.tobytes() and a.im.tobytes() == b.im.tobytes()


@settings(max_examples=40, deadline=None)
@given(
    t=arrays,
    sweep=st.sampled_from(["cooling", "warming"]),
    exc=opt(floats),
    when=opt(times),
)
def test_transport_round_trip_is_exact(t, sweep, exc, when):
    rec = hydrofw.TransportCurve(
        temperature_k=t,
        resistance_ohm=t[::-1],
        time_s=None if t.size % 2 else t,
        sweep=sweep,
        excitation_a=exc,
        acquired_at=when,
    )
    assert hydrofw.from_table(_parquet_trip(hydrofw.to_table([rec]))) == [rec]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 20), params=opt(st.dictionaries(text, floats, max_size=3)))
def test_relaxation_round_trip_is_exact(n, params):
    delays = np.linspace(0, 1e-2, n)
    rec = hydrofw.RelaxationCurve(
        nucleus="1H",
        kind="T1_saturation_recovery",
        delay_s=delays,
        amplitude=np.exp(-delays),
        params=params,
        source_ids=[str(i) for i in range(n)],
    )
    assert hydrofw.from_table(_parquet_trip(hydrofw.to_table([rec]))) == [rec]


def test_result_records_round_trip():
    recs = [
        hydrofw.Lineshape(spectrum_id="s1", peak_hz=12.5, fwhm_hz=1350.0, fwhm_hz_err=20.0),
        hydrofw.Lineshape(spectrum_id="s2", peak_hz=float("nan"), flags=["no_peak"]),
    ]
    assert hydrofw.from_table(_parquet_trip(hydrofw.to_table(recs))) == recs
    cells = [hydrofw.Cell(cell="DAC1", synthesis_pressure_gpa=170, kind="nmr")]
    assert hydrofw.from_table(hydrofw.to_table(cells)) == cells


def test_content_id_is_stable_and_content_sensitive():
    a = hydrofw.Spectrum(
        nucleus="1H", observe_frequency_hz=4e8, spectral_width_hz=1e4, re=[1.0, 2.0], im=[0.0, 0.0]
    )
    b = hydrofw.Spectrum(
        nucleus="1H", observe_frequency_hz=4e8, spectral_width_hz=1e4, re=[1.0, 2.0], im=[0.0, 0.0]
    )
    assert a.id == b.id and len(a.id) == 64
    assert a.evolve(re=[1.0, 2.5]).id != a.id
    assert a.evolve(cell="DAC2").id != a.id
    assert a.evolve(id="given").id == "given"


def test_derived_fields():
    s = hydrofw.Spectrum(
        nucleus="1H",
        observe_frequency_hz=395e6,
        spectral_width_hz=2e5,
        re=np.zeros(8),
        im=np.zeros(8),
    )
    assert s.n_points == 8 and s.dwell_s == pytest.approx(5e-6) and s.x_step == pytest.approx(5e-6)
    assert s.x[-1] == pytest.approx(7 * 5e-6)
    assert s.data.dtype == np.complex128


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"nucleus": "2X"}, "is not an isotope"),
        ({"nucleus": "proton"}, "not a nucleus name"),
        ({"observe_frequency_hz": -1.0}, "must be positive"),
        ({"im": [0.0]}, "differ in length"),
        ({"n_points": 3}, "n_points=3"),
        ({"domain": "space"}, "must be one of"),
        ({"x_start": float("nan")}, "x_start must be finite"),
        ({"acquired_at": dt.datetime(2024, 1, 1)}, "no time zone"),
        ({"re": [[1.0, 2.0]], "im": [[1.0, 2.0]]}, "1-D"),
    ],
)
def test_validation_errors(changes, message):
    kw = dict(
        nucleus="1H", observe_frequency_hz=4e8, spectral_width_hz=1e4, re=[1.0, 2.0], im=[0.0, 0.0]
    )
    kw.update(changes)
    with pytest.raises(ValidationError, match=message):
        hydrofw.Spectrum(**kw)


def test_relaxation_rejects_negative_delays():
    with pytest.raises(ValidationError, match="negative"):
        hydrofw.RelaxationCurve(nucleus="1H", kind="T2_hahn_echo", delay_s=[-1.0], amplitude=[1.0])


def test_non_utc_times_are_converted():
    tz = dt.timezone(dt.timedelta(hours=8))
    s = hydrofw.Cell(cell="A", synthesized_at=dt.datetime(2024, 3, 1, 8, 0, tzinfo=tz))
    assert s.synthesized_at == dt.datetime(2024, 3, 1, 0, 0, tzinfo=dt.UTC)
