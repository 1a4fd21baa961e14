"""Sniffing: hydrofw.read picks the right reader for every real NMR dataset and no other."""

from __future__ import annotations

import json

import pytest
from hydrofw_nmrformats import bruker, jcampdx, tecmag, varian

from hydrofw.api import choose_reader
from hydrofw.cli import main
from hydrofw.registry import get_registry
from hydrofw.source import open_source

EXPECTED = {
    "bruker/xwinnmr26-1h-400/1": "bruker",
    "bruker/xwinnmr26-1h-400/1/fid": "bruker",
    "bruker/xwinnmr26-1h-400/1/acqus": "bruker",
    "bruker/topspin13-odnp-1h-15mhz-t1-ser/28/ser": "bruker",
    "bruker/topspin406-1h-400-strychnine/10": "bruker",
    "tecmag/tnt1001-fid-1999/FID_0.tnt": "tecmag",
    "varian/inova-31p-162-array24/test1.fid": "varian",
    "varian/vnmrs-87rb-196-satrec-solid/satrec2D.fid/fid": "varian",
    "jcampdx/jeol-1h-400-spectrum/jeol.dx": "jcampdx",
    "jcampdx/bruker-ntuples-reim-1024/jcamp-1024.jdx": "jcampdx",
}


@pytest.mark.parametrize(("rel", "name"), EXPECTED.items())
def test_best_reader(real_data, rel, name):
    assert choose_reader(open_source(real_data / rel)).name == name


@pytest.mark.parametrize(
    "rel",
    [
        "bruker/xwinnmr26-1h-400",  # the folder above an experiment
        "bruker/xwinnmr26-1h-400/1/pdata/1",
        "bruker/xwinnmr26-1h-400/1/pdata/1/procs",
        "varian/inova-31p-162-array24/test1.fid/procpar",
        "transport/mpms-multivu-dc-moment/sample1.dat",
    ],
)
def test_nothing_else_is_claimed(real_data, rel):
    source = open_source(real_data / rel)
    for module in (bruker, tecmag, varian, jcampdx):
        assert module.sniff(source) < 0.1


def test_plugins_listing(capsys):
    assert main(["plugins", "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["nmrglue"]["status"] == "ok"
    assert listed["nmrglue"]["readers"] == ["bruker", "tecmag", "varian", "jcampdx"]
    assert get_registry().reader("topspin").name == "bruker"
