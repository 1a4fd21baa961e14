"""The campaign report: every figure for every cell, axes with units, ppm axes decreasing to the
right, x ranges that cover the fitted lines with at most ~30 % margin, no colliding tick labels,
errors as 1.449(3), numeric sorting, flags and skipped/unanalysed files, `hydrofw report`.

One small campaign (two NMR cells, one transport cell; the other cells of campaign.toml have no
raw data, so the report must show them without figures) is run once for the module; it also
holds a stray text file (skipped) and a 1H experiment with a pulse program no rule takes.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hydrofw_campaign import figures as F
from hydrofw_campaign.config import load_campaign
from hydrofw_campaign.reportfigs import build_figures
from hydrofw_campaign.uformat import format_uncertain, format_value, sort_key

import hydrofw
from hydrofw.cli import main

NMR, TRANSPORT = ("N1", "N2"), ("T1",)
MARGIN_MAX = 0.30  # total x margin beyond the fitted lines, as a fraction of their span


def _tables(store) -> dict[str, Any]:
    return {n: store.table(n) for n in store.tables()}


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("report") / "camp"
    assert main(["example", str(root)]) == 0
    for cell in ("N3", "N4", "T2", "T3", "T4"):
        shutil.rmtree(root / "raw" / cell)
    (root / "raw" / "N1" / "lab-notes.txt").write_text("sample looked fine\n")
    day = sorted((root / "raw" / "N1").glob("2026*_d1"))[0]
    odd = day / "90"
    shutil.copytree(day / "10", odd)
    acqus = odd / "acqus"
    acqus.write_text(acqus.read_text().replace("##$PULPROG= <zg>", "##$PULPROG= <cosygpqf>"))
    summary = hydrofw.run(root)
    config = load_campaign(root)
    store = hydrofw.open_store(root / "store")
    return {"root": root, "summary": summary, "store": store, "config": config}


@pytest.fixture(scope="module")
def figs(campaign):
    config = campaign["config"]
    return build_figures(
        _tables(campaign["store"]),
        cells_nmr=[c.id for c in config.cells if c.cell.kind == "nmr"],
        cells_transport=[c.id for c in config.cells if c.cell.kind == "transport"],
        synthesized_at={c.id: c.cell.synthesized_at for c in config.cells},
    )


def test_every_cell_has_every_figure(campaign, figs):
    keys = {f.key for f in figs}
    for cell in NMR:
        for n in ("fig1_before_after", "fig2_echoes", "fig3_t1_t2", "fig4_stacked", "fig5_pake"):
            assert f"{cell}_{n}" in keys, (cell, n)
    for cell in TRANSPORT:
        assert f"{cell}_rt_sweeps" in keys and f"{cell}_tc_criteria" in keys
    assert "fig6_timeseries" in keys and "dac_shielding" in keys
    assert not {f.cell for f in figs} & {"N3", "N4", "T2", "T3", "T4"}  # no data, no figure
    report = campaign["root"] / "report"
    for f in figs:
        png = report / f"{f.key}.png"
        assert png.is_file() and png.stat().st_size > 10_000, png
    html = (report / "index.html").read_text()
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(embedded) == len(figs)
    assert all(base64.b64decode(e)[:8] == b"\x89PNG\r\n\x1a\n" for e in embedded)
    assert "http://" not in html and "https://" not in html  # nothing from the network
    for cell in ("N3", "N4", "T2"):  # cells without data still listed, with the reason
        assert f'id="cell-{cell}"' in html
    assert "No figure: no analysed data of this cell" in html


def test_axes_have_units(figs):
    unit = re.compile(r"\(.+\)")
    for f in figs:
        for ax in f.figure.axes:
            assert unit.search(ax.get_xlabel()), (f.key, ax.get_xlabel())
            if ax.get_yticks().size and ax.yaxis.get_visible() and ax.get_ylabel():
                assert unit.search(ax.get_ylabel()), (f.key, ax.get_ylabel())


def test_ppm_axes_decrease_to_the_right(figs):
    checked = 0
    for f in figs:
        for ax in f.figure.axes:
            if "(ppm)" in ax.get_xlabel() and "shift" in ax.get_xlabel():
                left, right = ax.get_xlim()
                assert left > right, (f.key, left, right)
                checked += 1
    assert checked >= 4 * len(NMR)


def _lineshape_extent(store, spectrum_ids):
    rows = [r for r in store.table("lineshape").to_pylist() if r["spectrum_id"] in spectrum_ids]
    lo = min(r["peak_ppm"] - 1.5 * r["fwhm_ppm"] for r in rows)
    hi = max(r["peak_ppm"] + 1.5 * r["fwhm_ppm"] for r in rows)
    return lo, hi, len(rows)


def test_axis_ranges_cover_the_fitted_lines_with_small_margin(campaign, figs):
    """The x range of every spectrum panel covers each drawn spectrum's fitted line
    (peak +- 1.5 FWHM from the lineshape table) and is at most 30 % wider than their span; the
    Pake panel covers the pattern's edges (+-1.5 d of the largest coupling)."""
    store = campaign["store"]
    pake = {r["spectrum_id"]: r for r in store.table("pake_fit").to_pylist()}
    n = 0
    for f in figs:
        for check in f.checks:
            ax = f.figure.axes[check.axes_index]
            lo_ax, hi_ax = sorted(ax.get_xlim())
            if check.unit == "ppm":
                lo, hi, found = _lineshape_extent(store, set(check.ids))
                assert found == len(check.ids), f.key  # every drawn spectrum was fitted
            else:
                fit = pake[check.ids[0]]
                reach = 1.5 * max(fit["coupling_hz"]) + 1.5 * fit["broadening_hz"]
                lo, hi = (fit["offset_hz"] - reach) / 1e3, (fit["offset_hz"] + reach) / 1e3
            assert lo_ax <= lo + 1e-9 and hi_ax >= hi - 1e-9, (f.key, (lo_ax, hi_ax), (lo, hi))
            assert (hi_ax - lo_ax) <= (1.0 + MARGIN_MAX) * (hi - lo) * (1 + 1e-9), f.key
            n += 1
    assert n >= 5 * len(NMR)


def test_tick_labels_do_not_collide(figs):
    for f in figs:
        canvas = f.figure.canvas
        renderer = canvas.get_renderer() if hasattr(canvas, "get_renderer") else None
        if renderer is None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg

            renderer = FigureCanvasAgg(f.figure).get_renderer()
        f.figure.draw_without_rendering()
        for ax in f.figure.axes:
            boxes = [
                t.get_window_extent(renderer)
                for t in ax.get_xticklabels()
                if t.get_visible() and t.get_text()
            ]
            boxes.sort(key=lambda b: b.x0)
            for a, b in zip(boxes, boxes[1:], strict=False):
                assert a.x1 <= b.x0 + 0.5, (f.key, ax.get_title())


def test_fig5_shows_data_model_components_in_angstrom(figs):
    for cell in NMR:
        f = next(x for x in figs if x.key == f"{cell}_fig5_pake")
        ax = f.figure.axes[0]
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "fitted model" in labels
        doublets = [t for t in labels if t.startswith("doublet")]
        assert len(doublets) == 2 and all("Å" in t for t in doublets)
        assert re.search(r"r\$_n\$ = 0\.7\d*\(\d+\) Å", doublets[0]), doublets
        assert "kHz" in ax.get_xlabel()
        assert "clipped" in f.caption  # the central line is cut off, and the caption says so


def test_fig2_draws_the_echoes_in_the_time_domain(figs):
    for cell in NMR:
        f = next(x for x in figs if x.key == f"{cell}_fig2_echoes")
        ax = f.figure.axes[0]
        echoes = [ln for ln in ax.get_lines() if ln.get_label().startswith("_")]  # unlabelled
        starts = [ln.get_xdata()[0] for ln in echoes if len(ln.get_xdata()) > 50]
        assert len(starts) >= 5 and np.all(np.diff(starts) > 0)  # one echo per delay, later
        assert "time" in ax.get_xlabel() and "(ms)" in ax.get_xlabel()


def test_fig4_has_peak_guide_lines(figs):
    for cell in NMR:
        f = next(x for x in figs if x.key == f"{cell}_fig4_stacked")
        for ax in f.figure.axes[:2]:
            guides = [ln for ln in ax.get_lines() if ln.get_label().startswith("fitted peak")]
            assert len(guides) == 1 and len(guides[0].get_xdata()) >= 5


def test_errors_in_parentheses_notation():
    assert format_uncertain(1.449, 0.003) == "1.449(3)"
    assert format_uncertain(1.449, 0.0153) == "1.449(15)"
    assert format_uncertain(10.5, 0.4) == "10.5(4)"
    assert format_uncertain(0.7502, 0.0011) == "0.7502(11)"
    assert format_uncertain(2.5, None) == "2.5" and format_uncertain(2.5, float("nan")) == "2.5"
    assert format_value([0.75, 1.24], [0.001, 0.006]) == "0.7500(10), 1.240(6)"
    days = [0.1855, 10.9, 13.96, 3.975]
    assert sorted(days, key=lambda d: float(sort_key(d))) == [0.1855, 3.975, 10.9, 13.96]


def test_html_tables_sort_numerically_and_show_errors(campaign):
    html = (campaign["root"] / "report" / "index.html").read_text()
    assert 'id="table-tc"' in html and 'id="table-kinetics"' in html
    cells = re.findall(r'<td data-sort="([^"]*)">([^<]*)</td>', html)
    numeric = [(s, t) for s, t in cells if re.fullmatch(r"-?\d+\.\d+\(\d+\)", t)]
    assert len(numeric) > 50  # values with errors as 1.449(3)
    for s, t in numeric[:200]:
        assert abs(float(s) - float(t.split("(")[0])) <= 10 ** -(len(t.split("(")[0].split(".")[1]))
    assert "function key(r)" in html and "parseFloat" in html


def test_problems_listed_by_name(campaign):
    summary = campaign["summary"]
    assert [Path(p).name for p, _ in summary["skipped"]] == ["lab-notes.txt"]
    assert [prog for _, prog in summary["unanalysed"]] == ["cosygpqf"]
    report = campaign["root"] / "report"
    for text in ((report / "index.html").read_text(), (report / "summary.md").read_text()):
        assert "lab-notes.txt" in text and "cosygpqf" in text
        assert "no reader recognises this file" in text
        assert "Flags" in text
        assert summary["run_id"] in text  # the run id
        assert "nmr.pake_fit" in text and "n_distances" in text  # the parameters


def test_report_rebuilds_from_store_without_reanalysis(campaign, tmp_path, capsys):
    store = campaign["store"]
    runs_before = len(store.runs()) if hasattr(store, "runs") else None
    out = tmp_path / "rebuilt"
    assert main(["report", str(campaign["root"] / "store"), "--report", str(out)]) == 0
    assert "index.html" in capsys.readouterr().out
    assert (out / "index.html").is_file() and (out / "summary.md").is_file()
    rebuilt = (out / "index.html").read_text()
    assert "lab-notes.txt" in rebuilt and "cosygpqf" in rebuilt  # from the run's record
    assert len(list(out.glob("*.png"))) == len(list((campaign["root"] / "report").glob("*.png")))
    if runs_before is not None:
        assert len(store.runs()) == runs_before


def test_a_report_past_the_embedding_limit_links_its_figures(campaign, tmp_path, monkeypatch):
    """Hundreds of cells: the page links the PNG files beside it instead of embedding them."""
    from hydrofw_campaign import report

    monkeypatch.setattr(report, "EMBED_LIMIT_BYTES", 0)
    out = tmp_path / "linked"
    assert main(["report", str(campaign["root"] / "store"), "--report", str(out)]) == 0
    html = (out / "index.html").read_text()
    assert "data:image/png" not in html
    linked = re.findall(r'<img src="([^"]+)"', html)
    assert linked and sorted(linked) == sorted(p.name for p in out.glob("*.png"))
    assert "linked, not embedded" in html


def test_hydrofw_campaign_report_hook_declines_without_campaign_toml(tmp_path):
    from hydrofw.registry import get_registry

    store = hydrofw.open_store(tmp_path / "store")
    assert (
        get_registry().pm.hook.hydrofw_campaign_report(
            store=store, campaign_dir=tmp_path, report_dir=tmp_path / "report"
        )
        is None
    )


def test_empty_tables_give_a_report_without_figures(tmp_path):
    from hydrofw_campaign.report import write_report

    files = write_report(
        {}, tmp_path, cells_nmr=["A"], cells_transport=["B"], synthesized_at={}, title="empty"
    )
    assert {p.name for p in files} == {"index.html", "summary.md"}
    assert "No figure" in (tmp_path / "index.html").read_text()


def test_line_extent_and_padding():
    assert F.line_extent([(10.0, 2.0), (0.0, 1.0)]) == (-1.5, 13.0)
    assert F.line_extent([(float("nan"), 1.0)]) is None
    lo, hi = F.padded((0.0, 10.0))
    assert hi - lo <= 13.0 and lo < 0 < 10 < hi


# ----------------------------------------------------------------------------- a real browser
CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None
)


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless browser check needs Debian's chromium (/usr/bin/chromium); "
    "`apt-get install -y chromium` (.ci/run installs it where it can)",
)
def test_report_renders_in_a_real_browser(campaign, tmp_path):
    """index.html in headless Chromium: every image decodes (counted by the page's own load
    handler, read back from the DOM) and the screenshot is a page, not a blank."""
    from matplotlib.image import imread

    index = (campaign["root"] / "report" / "index.html").resolve()
    dom = _chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", index.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    total = re.search(r'data-images-total="(\d+)"', dom.stdout)
    loaded = re.search(r'data-images-loaded="(\d+)"', dom.stdout)
    assert total and loaded, dom.stdout[:500]
    n_png = len(list((campaign["root"] / "report").glob("*.png")))
    assert int(total.group(1)) == n_png and int(loaded.group(1)) == n_png
    shot = tmp_path / "report.png"
    res = _chromium(tmp_path, "--window-size=1300,2600", f"--screenshot={shot}", index.as_uri())
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    pixels = imread(shot)[..., :3]
    not_white = np.mean(np.any(pixels < 0.9, axis=-1))
    assert pixels.std() > 0.05 and not_white > 0.05, (pixels.std(), not_white)
    colourful = np.mean(np.ptp(pixels, axis=-1) > 0.2)  # coloured lines of the figures
    assert colourful > 0.002, colourful


# ----------------------------------------------------------------------------- real files
REAL_TOML = """
[campaign]
name = "real files"
field_t = 11.74

[[cells]]
id = "C1"
kind = "nmr"
synthesized_at = 2000-01-01T00:00:00Z

[[cells]]
id = "C2"
kind = "nmr"
synthesized_at = 2000-01-01T00:00:00Z

[[cells]]
id = "T1"
kind = "transport"
synthesized_at = 2000-01-01T00:00:00Z
"""


def test_a_campaign_of_real_files_gets_its_figures(real_data, tmp_path):
    """Real instrument files (a Bruker 1H FID, a Varian 87Rb saturation recovery, a PPMS R(T)
    of a Nb film) in a campaign: each cell gets the figures its data allow."""
    root = tmp_path / "real"
    sources = {
        "C1": real_data / "bruker" / "topspin32-1h-500",
        "C2": real_data / "varian" / "vnmrs-87rb-196-satrec-solid",
        "T1": real_data / "transport" / "ppms-multivu-resistivity-nb-film",
    }
    for cell, src in sources.items():
        if not src.exists():
            pytest.skip(f"real file {src} not found")
        shutil.copytree(src, root / "raw" / cell / src.name)
    (root / "campaign.toml").write_text(REAL_TOML)
    summary = hydrofw.run(root)
    assert summary["failed"] == []
    names = {p.name for p in (root / "report").glob("*.png")}
    assert {
        "C1_fig1_before_after.png",
        "C1_fig4_stacked.png",
        "C2_fig3_relaxation.png",
        "T1_rt_sweeps.png",
    } <= names
    html = (root / "report" / "index.html").read_text()
    assert "87Rb" in html and "T1_saturation_recovery".replace("_", " ") in html
    tc = hydrofw.open_store(root / "store").table("tc").to_pylist()
    assert any(8.0 < (r["tc_50_k"] or 0) < 9.5 for r in tc)  # Nb film: Tc ~ 9 K
    for r in tc:
        if r["tc_50_k"] is not None and np.isfinite(r["tc_50_k"]):
            assert f"{r['tc_50_k']:.1f}"[:3] in html  # the table shows it


def test_decomposition_and_hydride_only_columns_are_shown_when_present(campaign):
    """A ``decomposition`` table (as nmr.decompose writes it) and quantification rows counting
    the metal hydride apart: Fig. 4c gains the decomposition's H2 fraction, Fig. 5's caption
    its distances, Fig. 6a the all-1H H/La beside the hydride-only one, and the tables list it."""
    import pyarrow as pa
    from hydrofw_campaign.reporttables import result_tables

    from hydrofw.schema import conform

    tables = _tables(campaign["store"])
    pake = [r for r in tables["pake_fit"].to_pylist() if r["cell"] == "N1" and not r["flags"]]
    day = max(r["days_since_synthesis"] for r in pake)
    rows = [
        {
            "id": f"d{i}",
            "spectrum_id": f"s{i}",
            "cell": "N1",
            "days_since_synthesis": d,
            "h2_fraction": 0.1 + 0.004 * d,
            "h2_fraction_err": 0.01,
            "r_n_angstrom": 0.751,
            "r_n_angstrom_err": 0.002,
            "r_nn_angstrom": 1.24,
            "r_nn_angstrom_err": 0.01,
        }
        for i, d in enumerate([1.0, 10.0, day])
    ]
    tables["decomposition"] = conform(pa.Table.from_pylist(rows), "decomposition")
    q = tables["quantification"]
    if "ratio_total_first_principles" in q.column_names and "counted" in q.column_names:
        q = q.set_column(
            q.column_names.index("counted"),
            q.schema.field("counted"),
            pa.array(["metal_hydride"] * q.num_rows),
        )
        tables["quantification"] = q
    config = campaign["config"]
    figs = build_figures(
        tables,
        cells_nmr=["N1"],
        cells_transport=[],
        synthesized_at={c.id: c.cell.synthesized_at for c in config.cells},
    )
    fig4 = next(f for f in figs if f.key == "N1_fig4_stacked")
    labels = [t.get_text() for t in fig4.figure.axes[2].get_legend().get_texts()]
    assert "h2 (decomposition)" in labels
    fig5 = next(f for f in figs if f.key == "N1_fig5_pake")
    assert "decomposition of the FID that day: r_n = 0.7510(20) Å, r_nn = 1.240(10) Å" in (
        fig5.caption
    )
    if "ratio_total_first_principles" in q.column_names:
        fig6 = next(f for f in figs if f.key == "fig6_timeseries")
        labels = [t.get_text() for t in fig6.figure.axes[0].get_legend().get_texts()]
        assert "N1 (all $^1$H)" in labels
    views = {v.name: v for v in result_tables(tables)}
    assert "r_n_angstrom (angstrom)" in views["decomposition"].headers
    assert views["decomposition"].rows[0][2].text == "0.104(10)"  # day 1, first by day


def test_a_long_table_shows_its_first_rows_in_display_order(monkeypatch):
    from hydrofw_campaign import reporttables

    monkeypatch.setattr(reporttables, "MAX_TABLE_ROWS", 3)
    table = pa.table({
        "cell": ["B", "A", "C", "A", "B"],
        "days_since_synthesis": [1.0, 2.0, 0.0, 1.0, 0.0],
        "value": [1.0, 2.0, 3.0, 4.0, 5.0],
    })
    view = reporttables._view("Values", "values", table, [("value", None)])
    assert view.total == 5 and [r[0].text for r in view.rows] == ["4", "2", "5"]
    assert "(the first 3 of 5 rows; the store holds all)" in reporttables.markdown(view)
