"""Schemas: JSON definitions, validation of tables, version metadata and migrations."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import hydrofw
from hydrofw.errors import SchemaError, SchemaVersionError
from hydrofw.schema import (
    SCHEMA_KEY,
    VERSION_KEY,
    conform,
    get_schema,
    identify,
    schema_dir,
    schema_names,
)

CONTRACT = {
    "spectrum": [
        "id",
        "cell",
        "nucleus",
        "domain",
        "observe_frequency_hz",
        "spectral_width_hz",
        "n_points",
        "n_scans",
        "x_start",
        "x_step",
        "x_unit",
        "re",
        "im",
        "acquired_at",
        "source_path",
        "source_sha256",
        "format",
        "reader",
        "parameters",
        "history",
    ],
    "relaxation": [
        "id",
        "cell",
        "nucleus",
        "kind",
        "delay_s",
        "amplitude",
        "amplitude_err",
        "model",
        "params",
        "stderr",
        "reduced_chi2",
    ],
    "transport": [
        "id",
        "cell",
        "acquired_at",
        "temperature_k",
        "resistance_ohm",
        "sweep",
        "excitation_a",
        "frequency_hz",
        "instrument",
        "source_path",
    ],
    "cell": [
        "cell",
        "campaign",
        "culet_um",
        "gasket",
        "precursor",
        "hydrogen_source",
        "synthesis_pressure_gpa",
        "synthesized_at",
        "laser_temperature_k",
        "notes",
    ],
    "campaign": ["campaign"],
    "lineshape": [
        "peak_hz",
        "peak_ppm",
        "fwhm_hz",
        "fwhm_hz_err",
        "integral",
        "snr_time",
        "snr_freq",
    ],
    "relaxation_fit": [
        "model",
        "t1_s",
        "t1_s_err",
        "t2_s",
        "t2_s_err",
        "m0",
        "m0_err",
        "beta",
        "reduced_chi2",
        "constrained",
    ],
    "quantification": ["ratio", "ratio_err", "mode", "factors"],
    "tc": [
        "tc_onset_k",
        "tc_90_k",
        "tc_50_k",
        "tc_10_k",
        "tc_zero_k",
        "tc_dRdT_k",
        "width_k",
        "tc_onset_k_err",
        "normal_state_ohm",
        "criterion_notes",
    ],
    "kinetics": [
        "rate_per_day",
        "rate_per_day_err",
        "x_inf",
        "x_inf_err",
        "tau_days",
        "tau_days_err",
        "aic_linear",
        "aic_exponential",
        "window_days",
    ],
}
RESULT_COMMON = ["cell", "acquired_at", "days_since_synthesis", "method"]


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_contract_fields_present(name):
    names = get_schema(name).names
    missing = [f for f in CONTRACT[name] if f not in names]
    assert not missing
    if name in ("lineshape", "relaxation_fit", "quantification", "tc", "kinetics"):
        assert all(f in names for f in RESULT_COMMON)


def test_every_schema_file_is_well_formed():
    files = sorted(schema_dir().glob("*.json"))
    assert {f.stem for f in files} <= set(schema_names())
    for f in files:
        doc = json.loads(f.read_text())
        assert doc["name"] == f.stem and isinstance(doc["version"], int)
        for field in doc["fields"]:
            assert field["description"], f"{f.name}:{field['name']} has no description"
            assert set(field) >= {"name", "type", "nullable", "unit", "description"}


def test_arrow_schema_types_units_and_metadata():
    s = get_schema("spectrum").arrow
    assert s.metadata[SCHEMA_KEY] == b"spectrum" and s.metadata[VERSION_KEY] == b"2"
    assert s.field("re").type == pa.list_(pa.float64())
    assert s.field("acquired_at").type == pa.timestamp("us", tz="UTC")
    assert s.field("parameters").type == pa.map_(pa.string(), pa.string())
    assert s.field("observe_frequency_hz").metadata[b"unit"] == b"Hz"
    assert not s.field("nucleus").nullable
    assert get_schema("transport").arrow.field("resistance_ohm").metadata[b"unit"] == b"ohm"


def _minimal_spectrum_table():
    rec = hydrofw.Spectrum(
        nucleus="1H", observe_frequency_hz=4e8, spectral_width_hz=1e4, re=[1.0, 2.0], im=[0.0, 0.0]
    )
    return hydrofw.to_table([rec])


def test_conform_errors_name_table_and_column():
    t = _minimal_spectrum_table()
    with pytest.raises(SchemaError, match="required column 'nucleus' is missing"):
        conform(t.drop_columns(["nucleus"]).replace_schema_metadata(None), "spectrum")
    bad = t.set_column(t.column_names.index("n_points"), "n_points", pa.array(["many"]))
    with pytest.raises(SchemaError, match="column 'n_points' has type string"):
        conform(bad.replace_schema_metadata(None), "spectrum")
    nulls = t.set_column(t.column_names.index("nucleus"), "nucleus", pa.nulls(1, pa.string()))
    with pytest.raises(SchemaError, match="'nucleus' holds 1 nulls"):
        conform(nulls, "spectrum")
    with pytest.raises(SchemaError, match="holds table 'spectrum', expected 'transport'"):
        conform(t, "transport")


def test_conform_adds_nullable_columns_and_keeps_extras():
    t = (
        _minimal_spectrum_table()
        .select(
            [
                "id",
                "nucleus",
                "domain",
                "observe_frequency_hz",
                "spectral_width_hz",
                "n_points",
                "x_start",
                "x_step",
                "x_unit",
                "re",
                "im",
                "parameters",
                "history",
            ]
        )
        .append_column("my_column", pa.array([7]))
    )
    out = conform(t.replace_schema_metadata(None), "spectrum")
    assert out.column("cell").null_count == 1
    assert out.column_names[-1] == "my_column"
    assert identify(out) == ("spectrum", 2)


def test_future_version_is_refused(tmp_path):
    t = _minimal_spectrum_table()
    meta = dict(t.schema.metadata)
    meta[VERSION_KEY] = b"99"
    path = tmp_path / "spectrum" / "part-future.parquet"
    path.parent.mkdir()
    pq.write_table(t.replace_schema_metadata(meta), path)
    with pytest.raises(SchemaVersionError, match="schema version 99, newer than the version 2"):
        hydrofw.open_store(tmp_path).table("spectrum")


def _v1_spectrum_table() -> pa.Table:
    """A spectrum table exactly as hydrofw schema v1 wrote it (MHz, no dwell_s/flags)."""
    v1 = get_schema("spectrum", version=1)
    rows = {
        "id": ["a", "b"],
        "nucleus": ["1H", "139La"],
        "domain": ["time", "frequency"],
        "observe_frequency_mhz": [395.0, 55.95],
        "spectral_width_hz": [2.0e5, 1.0e6],
        "n_points": [2, 2],
        "x_start": [0.0, -5e5],
        "x_step": [5e-6, 5e5],
        "x_unit": ["s", "Hz"],
        "re": [[1.0, 2.0], [3.0, 4.0]],
        "im": [[0.0, 0.0], [1.0, 1.0]],
        "parameters": [[("SFO1", "395.0")], []],
        "history": [[], []],
    }
    cols = [pa.array(rows.get(f.name, [None, None]), f.type) for f in v1.fields]
    return pa.Table.from_arrays(cols, schema=v1.arrow)


def test_v1_to_v2_migration_through_the_store(tmp_path):
    part = tmp_path / "spectrum" / "part-v1.parquet"
    part.parent.mkdir()
    pq.write_table(_v1_spectrum_table(), part)
    store = hydrofw.open_store(tmp_path)
    t = store.table("spectrum")
    assert identify(t) == ("spectrum", 2)
    assert "observe_frequency_mhz" not in t.column_names
    np.testing.assert_allclose(t.column("observe_frequency_hz").to_numpy(), [395e6, 55.95e6])
    assert t.column("dwell_s").to_pylist() == [pytest.approx(5e-6), None]
    assert t.column("flags").to_pylist() == [[], []]
    recs = hydrofw.from_table(t)
    assert recs[0].observe_frequency_hz == 395e6 and recs[1].nucleus == "139La"
    with pytest.raises(hydrofw.errors.StoreError, match="older schema version"):
        store.dataset("spectrum")
    store.compact("spectrum")  # rewrites the parts at the current version
    assert identify(pq.read_schema(store.parts("spectrum")[0])) == ("spectrum", 2)
    assert store.dataset("spectrum").to_table().num_rows == 2
