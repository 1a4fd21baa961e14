"""Per-cell incremental analysis of `hydrofw run` (:mod:`hydrofw_campaign.percell`): a cell whose
raw rows, campaign.toml table and campaign-wide settings did not change since the last run takes
its rows from that run; every other cell is analysed again; the tables equal those of a full run.

The campaign is the small example cut to three cells (the quickest NMR cell, N4, with five of
its sessions, and two transport cells), one N4 session held back to be added later; a full run
takes about 10 s on 2 cores."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hydrofw_campaign.example import write_example_campaign

import hydrofw
from hydrofw.schema import get_schema

CELLS = ("N4", "T1", "T2")
#: N4's sessions analysed from the start; the next one is held back (``new_session``)
N4_SESSIONS = 4


def _keep_cells(toml: str, keep: tuple[str, ...]) -> str:
    """campaign.toml text without the ``[[cells]]`` tables of cells not in ``keep``."""
    blocks = re.split(r"(?m)^(?=\[\[cells\]\]$|\[experiments\]$)", toml)

    def cell_id(block: str) -> str:
        found = re.search(r'(?m)^id = "(\w+)"', block)
        assert found is not None
        return found.group(1)

    return "".join(b for b in blocks if not b.startswith("[[cells]]") or cell_id(b) in keep)


def _write_campaign(root: Path, spare: Path) -> None:
    write_example_campaign(root, seed=5, small=True)
    toml = root / "campaign.toml"
    toml.write_text(_keep_cells(toml.read_text(), CELLS))
    for folder in (root / "raw").iterdir():
        if folder.name not in CELLS:
            shutil.rmtree(folder)
    sessions = sorted((root / "raw" / "N4").iterdir())
    spare.mkdir()
    shutil.move(sessions[N4_SESSIONS], spare / sessions[N4_SESSIONS].name)
    for late in sessions[N4_SESSIONS + 1 :]:
        shutil.rmtree(late)


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The campaign after its first (full) run, and a copy of it all to restore for each test."""
    base = tmp_path_factory.mktemp("incremental")
    root, spare = base / "campaign", base / "spare"
    _write_campaign(root, spare)
    summary = hydrofw.run(root)
    assert summary["cells_analysed"] == list(CELLS) and summary["cells_reused"] == []
    shutil.copytree(root, base / "pristine", symlinks=True)
    return {"root": root, "pristine": base / "pristine", "spare": spare, "summary": summary}


@pytest.fixture
def campaign(first: dict[str, Any]) -> Path:
    """The campaign and its store as the first run left them, at the same path (a fingerprint
    holds the campaign folder, and the stored rows their source paths)."""
    root = first["root"]
    shutil.rmtree(root)
    shutil.copytree(first["pristine"], root, symlinks=True)
    return root


def _tables(root: Path, run_id: str) -> dict[str, pa.Table]:
    """Every derived table of a run, sorted by its key (``campaign`` without its creation
    time)."""
    store = hydrofw.open_store(root / "store")
    out = {}
    for name in store.tables(run=run_id):
        table = store.table(name, run=run_id)
        if name == "campaign":
            table = table.drop_columns(["created_at"])
        out[name] = table.sort_by([(key, "ascending") for key in get_schema(name).key])
    return out


def _rows(table: pa.Table) -> str:
    """The rows as text: every value to the last bit, NaN equal to NaN."""
    return json.dumps(table.to_pylist(), default=repr)


def _assert_same_tables(a: dict[str, pa.Table], b: dict[str, pa.Table]) -> None:
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name].num_rows == b[name].num_rows, name
        assert _rows(a[name]) == _rows(b[name].select(a[name].column_names)), name


def _edit(root: Path, old: str, new: str) -> None:
    toml = root / "campaign.toml"
    text = toml.read_text()
    assert old in text
    toml.write_text(text.replace(old, new, 1))


def test_nothing_new_reuses_every_cell(first, campaign):
    summary = hydrofw.run(campaign)
    assert summary["cells_analysed"] == [] and summary["cells_reused"] == list(CELLS)
    record = hydrofw.open_store(campaign / "store").run_record(summary["run_id"])
    assert record["cells_reused"] == list(CELLS)
    assert set(record["cell_fingerprints"]) == set(CELLS)
    assert summary["results"] == first["summary"]["results"]
    _assert_same_tables(
        _tables(campaign, first["summary"]["run_id"]), _tables(campaign, summary["run_id"])
    )


def test_new_session_analyses_its_cell_only_and_equals_a_full_run(first, campaign):
    session = next(first["spare"].iterdir())
    shutil.copytree(session, campaign / "raw" / "N4" / session.name)
    incremental = hydrofw.run(campaign)
    assert incremental["cells_analysed"] == ["N4"]
    assert incremental["cells_reused"] == ["T1", "T2"]
    assert incremental["results"]["decomposition"] > first["summary"]["results"]["decomposition"]
    full = hydrofw.run(campaign, incremental=False)
    assert full["cells_analysed"] == list(CELLS) and full["cells_reused"] == []
    _assert_same_tables(
        _tables(campaign, incremental["run_id"]), _tables(campaign, full["run_id"])
    )


def test_one_cells_parameters_reanalyse_that_cell_only(campaign):
    # T2 is the last cell: a table of its own ends it
    _edit(
        campaign,
        "[experiments]\n",
        '[cells.pipeline.params."transport.tc"]\npeak_window_fraction = 0.5\n\n[experiments]\n',
    )
    summary = hydrofw.run(campaign)
    assert summary["cells_analysed"] == ["T2"]
    assert summary["cells_reused"] == ["N4", "T1"]


def test_a_campaign_wide_parameter_reanalyses_every_cell(campaign):
    _edit(campaign, "[kinetics]\n", '[pipeline.params."transport.tc"]\npeak_window_fraction = '
          "0.5\n\n[kinetics]\n")
    summary = hydrofw.run(campaign)
    assert summary["cells_analysed"] == list(CELLS) and summary["cells_reused"] == []


def test_an_edit_of_analysis_code_changes_every_fingerprint(first, monkeypatch):
    """A plugin's source edited without a new version (an editable install) is not reused."""
    from hydrofw_campaign import percell
    from hydrofw_campaign.config import load_campaign

    config = load_campaign(first["root"])
    cells = percell.raw_rows_by_cell(hydrofw.open_store(first["root"] / "store"), config)
    before = percell.cell_fingerprints(config, cells)
    assert set(before) == set(CELLS)
    real = percell._package_digest
    monkeypatch.setattr(
        percell, "_package_digest", lambda name: "edited" if name == "hydrofw_nmr" else real(name)
    )
    after = percell.cell_fingerprints(config, cells)
    assert all(after[c] != before[c] for c in CELLS)


# ----------------------------------------------------------------------------- the report
def _pngs(report: Path) -> dict[str, tuple[int, bytes]]:
    """Every figure of a report: file name -> (modification time in ns, bytes)."""
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in report.glob("*.png")}


def _of_cell(name: str, cell: str) -> bool:
    return name.startswith(f"{cell}_")


def test_nothing_new_keeps_every_cells_figures(campaign):
    before = _pngs(campaign / "report")
    assert all(any(_of_cell(n, c) for n in before) for c in CELLS)
    embedded = (campaign / "report" / "index.html").read_text().count("data:image/png;base64,")
    hydrofw.run(campaign)
    after = _pngs(campaign / "report")
    assert sorted(after) == sorted(before)
    for name, (mtime, data) in before.items():
        if any(_of_cell(name, c) for c in CELLS):  # taken from the earlier report, not drawn
            assert after[name] == (mtime, data), name
    html = (campaign / "report" / "index.html").read_text()
    assert html.count("data:image/png;base64,") == embedded == len(before)
    manifest = json.loads((campaign / "report" / "figures.json").read_text())
    assert sorted(manifest["cells"]) == sorted(CELLS)


def test_new_session_redraws_its_cells_figures_only_as_a_full_report_would(
    first, campaign, tmp_path
):
    before = _pngs(campaign / "report")
    session = next(first["spare"].iterdir())
    shutil.copytree(session, campaign / "raw" / "N4" / session.name)
    hydrofw.run(campaign)
    after = _pngs(campaign / "report")
    for name, (mtime, _) in before.items():
        if _of_cell(name, "T1") or _of_cell(name, "T2"):
            assert after[name][0] == mtime, name
    assert any(after[n][0] != m for n, (m, _) in before.items() if _of_cell(n, "N4"))
    # a report drawn from scratch from the same store gives the same figures, byte for byte
    from hydrofw_campaign.pipeline import report_from_store

    report_from_store(hydrofw.open_store(campaign / "store"), campaign, tmp_path / "fresh")
    fresh = _pngs(tmp_path / "fresh")
    assert sorted(fresh) == sorted(after)
    for name in fresh:
        assert fresh[name][1] == after[name][1], name
    # and the same tables and flags (the rows of the run read back without their arrays)

    def body(report: Path) -> str:
        text = (report / "summary.md").read_text()
        return text[text.index("## Results"):text.index("## Run")]

    assert body(tmp_path / "fresh") == body(campaign / "report")


def test_a_damaged_figure_cache_redraws_every_cell(campaign):
    (campaign / "report" / "figures.json").write_text("{not json")
    before = _pngs(campaign / "report")
    hydrofw.run(campaign)
    after = _pngs(campaign / "report")
    assert all(after[n][0] != m for n, (m, _) in before.items() if _of_cell(n, "N4"))
    assert json.loads((campaign / "report" / "figures.json").read_text())["cells"]
