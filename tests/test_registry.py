"""Plugin discovery, isolation of broken plugins, name conflicts, `hydrofw plugins --json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import pytest

from hydrofw.errors import PluginConflictError, PluginError
from hydrofw.registry import HydrofwPluginWarning, Registry

GOOD = """
from hydrofw import hookimpl, Reader, Exporter

def _sniff(source):
    return 1.0 if source.name.endswith(".good") else 0.0

def _read(source):
    return iter(())

@hookimpl
def hydrofw_register_readers(register):
    register(Reader(name="good", table="spectrum", sniff=_sniff, read=_read, formats=["good-fmt"]))

@hookimpl
def hydrofw_register_exporters(register):
    register(Exporter(name="good-export", export=lambda table, destination: None))
"""

IMPORT_FAILS = "raise ImportError('libfoo.so: cannot open shared object file')\n"

HOOK_RAISES = """
from hydrofw import hookimpl, Reader

@hookimpl
def hydrofw_register_readers(register):
    register(Reader(name="half", table="spectrum", sniff=lambda s: 0.0, read=lambda s: iter(())))
    raise RuntimeError("plugin bug while registering")
"""

CLASHES = """
from hydrofw import hookimpl, Reader

@hookimpl
def hydrofw_register_readers(register):
    register(Reader(name="good", table="spectrum", sniff=lambda s: 0.0, read=lambda s: iter(())))
    register(Reader(name="unique", table="spectrum", sniff=lambda s: 0.0, read=lambda s: iter(())))
"""


def _fresh() -> Registry:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HydrofwPluginWarning)
        return Registry()


def test_good_plugin_is_discovered_with_version(plugin_site):
    plugin_site("hydrofw-good", "good", "hydrofw_good_mod", GOOD)
    reg = _fresh()
    info = reg.plugins["good"]
    assert (info.status, info.distribution, info.version) == ("ok", "hydrofw-good", "1.2.3")
    assert info.readers == ["good"] and info.exporters == ["good-export"]
    assert reg.reader("good").plugin == "good"
    assert reg.reader("good-fmt").name == "good"  # lookup by format alias


def test_import_failure_is_reported_and_others_work(plugin_site):
    plugin_site("hydrofw-good", "good", "hydrofw_good_mod", GOOD)
    plugin_site("hydrofw-broken", "broken", "hydrofw_broken_mod", IMPORT_FAILS)
    with pytest.warns(HydrofwPluginWarning, match="broken"):
        reg = Registry()
    broken = reg.plugins["broken"]
    assert broken.status == "broken"
    assert "failed to import" in broken.error and "libfoo.so" in broken.error
    assert reg.reader("good").name == "good"
    assert reg.exporter("parquet").plugin == "hydrofw"


def test_hook_raising_drops_only_that_plugin(plugin_site):
    plugin_site("hydrofw-good", "good", "hydrofw_good_mod", GOOD)
    plugin_site("hydrofw-half", "half", "hydrofw_half_mod", HOOK_RAISES)
    reg = _fresh()
    half = reg.plugins["half"]
    assert half.status == "broken" and "plugin bug while registering" in half.error
    assert "half" not in reg.readers  # what it registered before failing is dropped
    assert reg.plugins["good"].status == "ok"


def test_name_clash_is_an_error_naming_both(plugin_site):
    plugin_site("hydrofw-good", "good", "hydrofw_good_mod", GOOD)
    plugin_site("hydrofw-clash", "clash", "hydrofw_clash_mod", CLASHES)
    reg = _fresh()
    with pytest.raises(PluginConflictError) as info:
        reg.reader("good")
    assert "'good'" in str(info.value) and "'clash'" in str(info.value)
    assert reg.reader("unique").plugin == "clash"  # the rest of the plugin works


def test_unknown_names_list_what_exists():
    reg = _fresh()
    with pytest.raises(PluginError, match="available: arrow, csdm, csv, parquet"):
        reg.exporter("xlsx")


def test_load_plugins_env_selects_exactly(plugin_site, monkeypatch):
    plugin_site("hydrofw-good", "good", "hydrofw_good_mod", GOOD)
    plugin_site("hydrofw-broken", "broken", "hydrofw_broken_mod", IMPORT_FAILS)
    monkeypatch.setenv("HYDROFW_LOAD_PLUGINS", "good")
    reg = _fresh()
    assert "good" in reg.plugins and "broken" not in reg.plugins
    monkeypatch.setenv("HYDROFW_LOAD_PLUGINS", "")
    assert set(_fresh().plugins) == {"hydrofw"}


def test_cli_plugins_json_shows_broken_plugin(plugin_site):
    site = plugin_site("hydrofw-broken", "broken", "hydrofw_broken_mod", IMPORT_FAILS)
    env = dict(os.environ, PYTHONPATH=str(site), PYTHONWARNINGS="ignore")
    out = subprocess.run(
        [sys.executable, "-m", "hydrofw.cli", "plugins", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    plugins = {p["name"]: p for p in json.loads(out.stdout)}
    assert plugins["broken"]["status"] == "broken"
    assert plugins["hydrofw"]["exporters"] == ["parquet", "arrow", "csv", "csdm"]
    for p in plugins.values():
        assert set(p) >= {"name", "version", "readers", "processors", "exporters", "status"}
