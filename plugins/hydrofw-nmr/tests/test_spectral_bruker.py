"""Digital-filter removal on real Bruker files (read with nmrglue, from the real_data fixture)."""

from __future__ import annotations

import warnings
from pathlib import Path

import nmrglue as ng
import numpy as np
import pyarrow as pa
import pytest
from hydrofw_nmr.spectral.digital_filter import (
    group_delay_from_header,
    group_delay_from_table,
    group_delays_from_headers,
)
from hydrofw_nmr.spectral.simulate import fid, table

import hydrofw
from hydrofw import Spectrum, to_table


def _table(folder: Path) -> tuple[pa.Table, dict]:
    """A one-row time-domain table straight from nmrglue and the acqus values."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dic, data = ng.bruker.read(str(folder))
    acqus = dic["acqus"]
    header = {k: str(acqus[k]) for k in ("GRPDLY", "DECIM", "DSPFVS") if k in acqus}
    rec = Spectrum(
        nucleus=acqus["NUC1"],
        observe_frequency_hz=acqus["SFO1"] * 1e6,
        spectral_width_hz=acqus["SW_h"],
        re=data.real,
        im=data.imag,
        n_scans=acqus["NS"],
        format="bruker",
        source_path=str(folder),
        parameters=header,
    )
    return to_table([rec]), dic


def test_old_data_group_delay_from_decim_dspfvs_table() -> None:
    assert group_delay_from_table(32, 12) == pytest.approx(72.125)
    assert group_delay_from_table(4, 10) == pytest.approx(66.625)
    assert group_delay_from_header({"GRPDLY": "76", "DSPFVS": "21"}) == 76.0
    assert group_delay_from_header(
        {"GRPDLY": "-1", "DECIM": "32", "DSPFVS": "12"}
    ) == pytest.approx(72.125)
    with pytest.raises(hydrofw.errors.ValidationError, match="DECIM"):
        group_delay_from_table(5, 10)


def test_topspin_fid_matches_topspin_spectrum_with_zero_order_phase_only(real_data: Path) -> None:
    folder = real_data / "bruker" / "topspin32-1h-500" / "1"
    tab, _ = _table(folder)
    pdic, processed = ng.bruker.read_pdata(str(folder / "pdata" / "1"))
    n = pdic["procs"]["SI"]
    spec = hydrofw.process(
        "nmr.fid_to_spectrum",
        tab,
        zero_fill=n,
        phase="auto_p0",
        apodization="none",
        dc_offset=False,
    )
    assert spec.column("group_delay_removed_points")[0].as_py() == 76.0
    re = np.asarray(spec.column("re")[0].values)
    # TopSpin stores 1r from high to low frequency; ours ascends. Compare shapes (scale free).
    ts = processed[::-1]
    corr = np.corrcoef(re, ts)[0, 1]
    assert corr > 0.99


@pytest.mark.parametrize(
    "folder",
    [
        "topspin32-1h-500/1",
        "xwinnmr26-1h-400/1",
        "topspin406-1h-400-strychnine/10",
        "xwinnmr35-13c-cpmas-solid/80",
    ],
)
def test_group_delay_removal_makes_the_spectrum_flat_phased(real_data: Path, folder: str) -> None:
    tab, _ = _table(real_data / "bruker" / folder)
    zf = 1 << int(np.ceil(np.log2(tab.column("n_points")[0].as_py())))
    fixed = hydrofw.process("nmr.fid_to_spectrum", tab, phase="auto_p0", zero_fill=zf)
    raw = hydrofw.process(
        "nmr.fid_to_spectrum", tab, phase="auto_p0", zero_fill=zf, group_delay_points=0.0
    )

    def negative_fraction(t: object) -> float:
        re = np.asarray(t.column("re")[0].values)  # type: ignore[attr-defined]
        re = re - np.median(re)
        return float(np.sum(np.minimum(re, 0) ** 2) / np.sum(re**2))

    expected = {
        "topspin32-1h-500/1": 76.0,  # GRPDLY
        "xwinnmr26-1h-400/1": 72.125,  # DECIM 32, DSPFVS 12
        "xwinnmr35-13c-cpmas-solid/80": 66.625,  # DECIM 4, DSPFVS 10
    }
    if folder in expected:
        assert fixed.column("group_delay_removed_points")[0].as_py() == expected[folder]
    assert negative_fraction(fixed) < 0.1
    assert negative_fraction(raw) > 2 * negative_fraction(fixed)


def test_group_delays_from_a_header_column_and_bad_values() -> None:
    headers = pa.array(
        [
            [("acqus.GRPDLY", "76")],
            [("$DECIM", "32"), ("DSPFVS", "12")],
            [("GRPDLY", "-1"), ("DECIM", "4"), ("DSPFVS", "10")],
            [("NS", "16")],
        ],
        pa.map_(pa.string(), pa.string()),
    )
    np.testing.assert_allclose(group_delays_from_headers(headers), [76.0, 72.125, 66.625, np.nan])
    bad = table([fid(64, 1e4, [(1.0, 0.0, 100.0)])], 1e4, parameters={"GRPDLY": "seventy"})
    with pytest.raises(hydrofw.errors.HydrofwError, match="GRPDLY"):
        hydrofw.process("nmr.fid_to_spectrum", bad)
