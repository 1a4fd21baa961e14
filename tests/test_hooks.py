"""Event and schema hooks: hydrofw_record_read enriches records in turn,
hydrofw_register_schemas adds plugin tables, hydrofw_example_campaign and
hydrofw_campaign_ingested are called by the CLI and the main job."""

from __future__ import annotations

import json

import numpy as np
import pytest

import hydrofw
from hydrofw import Reader, hookimpl
from hydrofw.cli import main
from hydrofw.registry import Registry
from hydrofw.schema import get_schema

SCHEMA = {
    "name": "plugin_widths",
    "version": 3,
    "description": "a plugin's own result table",
    "fields": [
        {"name": "id", "type": "string", "nullable": False, "unit": None, "description": "row id"},
        {
            "name": "width_hz",
            "type": "float64",
            "nullable": True,
            "unit": "Hz",
            "description": "a width",
        },
    ],
}


def _read(source):
    yield hydrofw.Spectrum(
        nucleus="1H",
        observe_frequency_hz=4e8,
        spectral_width_hz=1e4,
        re=np.ones(2),
        im=np.zeros(2),
        source_path=source.path,
    )


class Enricher:
    def __init__(self, tag):
        self.tag = tag

    @hookimpl
    def hydrofw_record_read(self, record, path, reader):
        return record.evolve(flags=(*record.flags, f"{self.tag}:{reader}:{path.name}"))


class Schemas:
    @hookimpl
    def hydrofw_register_schemas(self, register):
        register(SCHEMA)


class Examples:
    @hookimpl
    def hydrofw_register_readers(self, register):
        register(
            Reader(
                name="dot-spec",
                table="spectrum",
                sniff=lambda s: 1.0 if s.name.endswith(".spec") else 0.0,
                read=_read,
            )
        )

    @hookimpl
    def hydrofw_example_campaign(self, directory, seed):
        (directory / "raw" / "DAC1").mkdir(parents=True)
        (directory / "raw" / "DAC1" / f"fid{seed}.spec").write_text("x")
        (directory / "raw" / "DAC1" / "notes.txt").write_text("lab notes")
        return directory

    @hookimpl
    def hydrofw_campaign_ingested(self, store, campaign_dir, report_dir, summary):
        report_dir.mkdir(parents=True, exist_ok=True)
        n = store.table("spectrum").num_rows
        (report_dir / "summary.json").write_text(json.dumps({"spectra": n}))
        summary["results"] = {"spectra_seen": n}


@pytest.fixture
def registry(monkeypatch):
    import hydrofw.registry as reg_mod

    reg = Registry(entry_points=False)
    monkeypatch.setattr(reg_mod, "_REGISTRY", reg)
    return reg


def test_hydrofw_record_read_applies_every_implementation(registry, tmp_path):
    registry.add_plugin(Examples(), "examples")
    registry.add_plugin(Enricher("a"), "enrich-a")
    registry.add_plugin(Enricher("b"), "enrich-b")
    (tmp_path / "one.spec").write_text("x")
    flags = hydrofw.read(tmp_path / "one.spec").column("flags").to_pylist()[0]
    assert flags == ["a:dot-spec:one.spec", "b:dot-spec:one.spec"]


def test_hydrofw_register_schemas_adds_a_table(registry):
    registry.add_plugin(Schemas(), "schemas")
    schema = get_schema("plugin_widths")
    assert schema.version == 3 and schema.arrow.field("width_hz").metadata[b"unit"] == b"Hz"


def test_hydrofw_example_campaign_and_hydrofw_campaign_ingested(registry, tmp_path, capsys):
    registry.add_plugin(Examples(), "examples")
    camp = tmp_path / "camp"
    assert main(["example", str(camp), "--seed", "7"]) == 0
    assert (camp / "raw" / "DAC1" / "fid7.spec").exists()
    assert "example campaign written to" in capsys.readouterr().out
    assert main(["run", str(camp), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["datasets"] == 1 and summary["rows_added"] == {"spectrum": 1}
    assert summary["skipped"] == [
        [str(camp / "raw" / "DAC1" / "notes.txt"), "no reader recognises this file"]
    ]
    assert summary["results"] == {"spectra_seen": 1}
    assert json.loads((camp / "report" / "summary.json").read_text()) == {"spectra": 1}
    stored = hydrofw.open_store(camp / "store").table("spectrum")
    assert stored.column("cell").to_pylist() == ["DAC1"]  # cell from raw/<cell>/
    assert main(["run", str(camp), "--json"]) == 0  # second run adds nothing
    assert json.loads(capsys.readouterr().out)["rows_added"] == {"spectrum": 0}


def test_example_without_provider_is_an_error(registry, tmp_path, capsys):
    assert main(["example", str(tmp_path / "x")]) == 1
    assert "no installed plugin provides the example campaign" in capsys.readouterr().err
