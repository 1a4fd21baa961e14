"""Plugins fail alone: throwaway plugins (real entry-point distributions in tmp_path) that raise
at import, at registration, in a per-record hook, in a campaign hook, or call ``sys.exit()``.
Each is named in `hydrofw plugins`, reads of other formats and `hydrofw run` complete without
it, and `hydrofw run` exits non-zero naming it."""

from __future__ import annotations

import json
import warnings

import pytest

import hydrofw
import hydrofw.registry as reg_mod
from hydrofw.cli import main
from hydrofw.registry import HydrofwPluginWarning, Registry

GOOD = """
import numpy as np
from hydrofw import hookimpl, Reader, Spectrum

def _sniff(source):
    return 0.9 if source.name.endswith(".spec") else 0.0

def _read(source):
    yield Spectrum(nucleus="1H", observe_frequency_hz=4e8, spectral_width_hz=1e4,
                   re=np.arange(4.0) + len(source.read_bytes()), im=np.zeros(4),
                   source_path=source.path)

@hookimpl
def hydrofw_register_readers(register):
    register(Reader(name="spec", table="spectrum", sniff=_sniff, read=_read))

@hookimpl
def hydrofw_campaign_ingested(store, campaign_dir, report_dir, summary):
    summary["results"] = {"good_campaign_hook": "ran"}
"""

BAD = {
    "import": "raise RuntimeError('boom at import')\n",
    "exit": "import sys\nsys.exit('plugin quits at import')\n",
    "register": """
from hydrofw import hookimpl
@hookimpl
def hydrofw_register_readers(register):
    raise ValueError('boom while registering')
""",
    "exitregister": """
import sys
from hydrofw import hookimpl
@hookimpl
def hydrofw_register_processors(register):
    sys.exit(3)
""",
    "record": """
from hydrofw import hookimpl
@hookimpl
def hydrofw_record_read(record, path, reader):
    raise KeyError('boom per record')
""",
    "campaign": """
from hydrofw import hookimpl
@hookimpl
def hydrofw_campaign_ingested(store, campaign_dir, report_dir, summary):
    raise ZeroDivisionError('boom in campaign hook')
""",
}

STATUS = {
    "import": "failed to import: RuntimeError",
    "exit": "failed to import: SystemExit",
    "register": "raised in hydrofw_register_readers: ValueError",
    "exitregister": "raised in hydrofw_register_processors: SystemExit",
    "record": "raised in hydrofw_record_read: KeyError",
    "campaign": "raised in hydrofw_campaign_ingested: ZeroDivisionError",
}


@pytest.fixture
def install(plugin_site, monkeypatch):
    """Install the good plugin and one bad one; a fresh registry loading only those two."""

    def make(kind: str) -> Registry:
        plugin_site("hydrofw-goodspec", "goodspec", "hydrofw_goodspec_mod", GOOD)
        plugin_site(f"hydrofw-bad{kind}", f"bad{kind}", f"hydrofw_bad{kind}_mod", BAD[kind])
        monkeypatch.setenv("HYDROFW_LOAD_PLUGINS", f"goodspec,bad{kind}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HydrofwPluginWarning)
            reg = Registry()
        monkeypatch.setattr(reg_mod, "_REGISTRY", reg)
        return reg

    return make


def _campaign(tmp_path):
    camp = tmp_path / "camp"
    (camp / "raw" / "DAC1").mkdir(parents=True)
    for k in range(3):
        (camp / "raw" / "DAC1" / f"x{k}.spec").write_text("x" * (k + 2))
    return camp


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_plugin_is_named_and_work_goes_on(kind, install, tmp_path, capsys):
    install(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HydrofwPluginWarning)
        assert main(["plugins", "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    bad = listed[f"bad{kind}"]
    if kind != "campaign":  # a campaign hook can only fail when a campaign runs (see below)
        assert bad["status"] in ("broken", "failed") and STATUS[kind] in bad["error"]
    assert listed["goodspec"]["status"] == "ok" and listed["goodspec"]["readers"] == ["spec"]

    # a read of another format completes, its record untouched by the bad plugin
    (tmp_path / "one.spec").write_text("x")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HydrofwPluginWarning)
        table = hydrofw.read(tmp_path / "one.spec")
    assert table.num_rows == 1 and table.column("re").to_pylist() == [[1.0, 2.0, 3.0, 4.0]]

    # hydrofw run ingests everything, runs the good campaign hook, names the bad plugin, exit 1
    camp = _campaign(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HydrofwPluginWarning)
        code = main(["run", str(camp), "--json"])
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert code == 1
    assert summary["rows_added"] == {"spectrum": 3} and summary["failed"] == []
    assert summary["results"] == {"good_campaign_hook": "ran"}
    named = {f["plugin"]: f for f in summary["plugin_failures"]}
    assert STATUS[kind] in named[f"bad{kind}"]["error"]
    assert f"plugin 'bad{kind}'" in captured.err
    assert "Traceback" not in captured.err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HydrofwPluginWarning)
        assert main(["plugins"]) == 0
    assert f"bad{kind}" in (out := capsys.readouterr().out) and STATUS[kind] in out


def test_failing_record_hook_is_unregistered_after_first_failure(install, tmp_path):
    reg = install("record")
    (tmp_path / "a.spec").write_text("x")
    with pytest.warns(HydrofwPluginWarning, match="'badrecord' is failed"):
        hydrofw.read(tmp_path / "a.spec")
    assert reg.plugins["badrecord"].status == "failed"
    assert reg.failures == [("badrecord", "hydrofw_record_read", reg.plugins["badrecord"].error)]
    hydrofw.read(tmp_path / "a.spec")  # no second failure: the hook is gone
    assert len(reg.failures) == 1


def test_reader_that_exits_is_a_format_error(plugin_site, monkeypatch, tmp_path):
    plugin_site(
        "hydrofw-quitter",
        "quitter",
        "hydrofw_quitter_mod",
        """
import sys
from hydrofw import hookimpl, Reader
def _read(source):
    sys.exit("reader quits")
    yield
@hookimpl
def hydrofw_register_readers(register):
    register(Reader(name="quit", table="spectrum", sniff=lambda s: 0.9, read=_read))
""",
    )
    monkeypatch.setenv("HYDROFW_LOAD_PLUGINS", "quitter")
    monkeypatch.setattr(reg_mod, "_REGISTRY", Registry())
    (tmp_path / "f.q").write_text("x")
    match = "reader 'quit' failed: SystemExit.*quitter"
    with pytest.raises(hydrofw.errors.FormatError, match=match):
        hydrofw.read(tmp_path / "f.q")
