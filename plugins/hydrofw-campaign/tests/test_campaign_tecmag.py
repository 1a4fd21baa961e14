"""The TecMag .tnt writer: nmrglue's reader gets back exactly what was written."""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path

import nmrglue as ng
import numpy as np
import pytest
from hydrofw_campaign.example.acquisition import Acquisition
from hydrofw_campaign.example.tecmag import si_token, tnt_bytes, write_tnt


def _acq(data: np.ndarray, delays: tuple[float, ...] | None = None) -> Acquisition:
    return Acquisition(
        nucleus="139La",
        observe_frequency_hz=55.95e6,
        base_frequency_hz=55.7963e6,
        spectral_width_hz=5e5,
        n_scans=4096,
        sequence="hahn_echo",
        title="t",
        acquired_at=dt.datetime(2026, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
        data=data,
        receiver_gain=1.0,
        recycle_delay_s=0.02,
        delays_s=delays,
        temperature_k=295.0,
    )


def test_roundtrip_1d_and_header(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = (rng.standard_normal(512) + 1j * rng.standard_normal(512)).astype(np.complex64)
    path = write_tnt(tmp_path / "x.tnt", _acq(data), field_t=9.2772)
    dic, back = ng.tecmag.read(str(path))
    assert back.shape == (512, 1, 1, 1)
    np.testing.assert_array_equal(back[:, 0, 0, 0], data * np.complex64(8.0))
    assert dic["ob_freq"][0] == 55.95 and dic["base_freq"][0] == 55.7963
    assert dic["offset_freq"][0] == pytest.approx((55.95e6 - 55.7963e6) / 1e3)
    assert dic["sw"][0] == 2.5e5 and dic["dwell"][0] == pytest.approx(2e-6)  # sw = +-SW/2
    assert dic["scans"] == 4096 and dic["actual_scans"] == 4096
    assert dic["magnet_field"] == 9.2772
    assert dic["date"] == b"2026/2/3 04:05:06"
    assert dic["start_time"] == int(dt.datetime(2026, 2, 3, 4, 5, 6, tzinfo=dt.UTC).timestamp())
    assert dic["nuclei"][0] == b"La139" and dic["sequence"] == b"hahn_echo.tps"
    assert dic["acq_time"] == pytest.approx(512 * 2e-6)


def test_roundtrip_arrayed_with_delay_table(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    data = (rng.standard_normal((5, 256)) + 1j * rng.standard_normal((5, 256))).astype(np.complex64)
    delays = (25e-6, 1e-4, 1.5e-3, 0.02, 1.0)
    path = write_tnt(tmp_path / "s.tnt", _acq(data, delays), field_t=9.0)
    dic, back = ng.tecmag.read(str(path))
    assert back.shape == (256, 5, 1, 1)
    np.testing.assert_array_equal(back[:, :, 0, 0].T, data * np.complex64(8.0))
    tables = ng.tecmag.guess_tables(str(path))
    np.testing.assert_allclose(tables["vdlist"], delays, rtol=1e-12)


def test_layout_matches_a_real_tnt1005_file(real_data: Path) -> None:
    real = (real_data / "tecmag/tnt1005-dnplab-1d/1D.tnt").read_bytes()
    ours = tnt_bytes(_acq(np.zeros(64, np.complex64)), 9.0)

    def sections(raw: bytes) -> list[tuple[bytes, int]]:
        out, pos = [], 8
        while pos + 12 <= len(raw):
            tag, _, length = struct.unpack_from("<4sII", raw, pos)
            out.append((tag, length))
            if tag == b"PSEQ":
                break
            pos += 12 + length
        return out

    assert real[:8] == ours[:8] == b"TNT1.005"
    real_tags = [t for t, _ in sections(real)]
    our_tags = [t for t, _ in sections(ours)]
    assert our_tags == real_tags == [b"TMAG", b"DATA", b"TMG2", b"PSEQ"]
    assert dict(sections(ours))[b"TMAG"] == dict(sections(real))[b"TMAG"] == 1024
    assert ours[ours.find(b"PSEQ") + 8 : ours.find(b"PSEQ") + 12] == b"1.18"


def test_si_tokens() -> None:
    assert [si_token(x) for x in (0.0, 2.0, 1.5e-3, 5e-5, 2e-9)] == ["0", "2", "1.5m", "50u", "2n"]
