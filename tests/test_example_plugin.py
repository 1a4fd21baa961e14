"""The documented third-party plugin (examples/hydrofw-example-plugin) installs with pip and
works through entry points alone: listed by `hydrofw plugins`, sniffed by `hydrofw.read`,
its processor run by `hydrofw.process`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "examples" / "hydrofw-example-plugin"

SCRIPT = """
import json, sys, hydrofw
t = hydrofw.read(sys.argv[1])
out = hydrofw.process("example.normalize", t, target=2.0)
re = out.column("re")[0].values.to_numpy()
print(json.dumps({"nucleus": t.column("nucleus")[0].as_py(), "n": t.num_rows,
                  "max": float(abs(re).max()), "step": out.column("history")[0][0]["step"].as_py(),
                  "plugin": out.column("history")[0][0]["plugin"].as_py()}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(PLUGIN),
        ],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        pytest.fail(f"pip install of the example plugin failed:\n{res.stderr}")
    return target


def _env(site: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(site))


def test_example_plugin_is_listed(installed):
    res = subprocess.run(
        [sys.executable, "-m", "hydrofw.cli", "plugins", "--json"],
        capture_output=True,
        text=True,
        env=_env(installed),
        check=True,
    )
    plugins = {p["name"]: p for p in json.loads(res.stdout)}
    ex = plugins["example"]
    assert ex["status"] == "ok" and ex["version"] == "0.1.0"
    assert ex["distribution"] == "hydrofw-example-plugin"
    assert ex["readers"] == ["example-csv"] and ex["processors"] == ["example.normalize"]


def test_example_plugin_reads_and_processes(installed, tmp_path):
    csv = tmp_path / "fid.csv"
    csv.write_text(
        "# nucleus: 1H\n# observe_frequency_hz: 395000000\n# scans: 16\n"
        "time_s,re,im\n0,4,0\n5e-6,3,1\n1e-5,1,2\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(csv)],
        capture_output=True,
        text=True,
        env=_env(installed),
        check=True,
    )
    out = json.loads(res.stdout)
    assert out == {
        "nucleus": "1H",
        "n": 1,
        "max": 2.0,
        "step": "example.normalize",
        "plugin": "example",
    }
