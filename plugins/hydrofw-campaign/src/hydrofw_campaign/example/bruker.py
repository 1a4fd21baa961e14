"""Bruker TopSpin experiment folders (``acqus``, ``fid``/``ser``, ``pulseprogram``, ``vdlist``,
``pdata/1/title``) written with :func:`nmrglue.bruker.write`.

Two console generations are imitated: TopSpin 4 (Avance NEO: float64 data, ``DTYPA=2``) and
TopSpin 3 (Avance III HD: int32 data, ``DTYPA=0``). Both little-endian with the digital filter
group delay given by ``GRPDLY`` (with ``DECIM``/``DSPFVS`` beside it): the delay and the
decimation the simulated DSP filter really applied (:mod:`.receiver`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import nmrglue as ng
import numpy as np

from .acquisition import Acquisition

__all__ = ["BrukerConsole", "TOPSPIN4", "TOPSPIN3", "write_bruker"]

_INT32_FULL_SCALE = 2.0**29  # largest |value| written to an int32 FID (headroom below 2^31)


@attrs.frozen
class BrukerConsole:
    """Header conventions of one TopSpin generation."""

    topspin: str
    instrument: str
    dtypa: int  # 0: int32, 2: float64
    dspfvs: int
    group_delay_points: float
    owner: str = "nmruser"


TOPSPIN4 = BrukerConsole("4.1.4", "Avance NEO 400 (DAC probe, Lenz lens)", 2, 23, 76.0)
TOPSPIN3 = BrukerConsole("3.6.2", "Avance III HD 400 (DAC probe, Lenz lens)", 0, 20, 67.98)

_NUC_LABEL = {"1H": "1H", "139La": "139La", "63Cu": "63Cu"}


def _decim(spectral_width_hz: float) -> int:
    """Decimation factor of the digitiser for a spectral width (ADC at 20 MHz, power of two)."""
    return int(max(1, 2 ** np.floor(np.log2(20e6 / spectral_width_hz / 2))))


def _acqus(acq: Acquisition, console: BrukerConsole, folder: Path, td: int) -> dict:
    sfo1_mhz = acq.observe_frequency_hz / 1e6
    bf1_mhz = acq.base_frequency_hz / 1e6
    stamp = acq.acquired_at.astimezone(dt.UTC)
    d = [0.0] * 32
    d[1] = acq.recycle_delay_s
    p = [0.0] * 32
    p[1] = acq.pulse_length_s * 1e6
    p[2] = 2 * acq.pulse_length_s * 1e6
    params = {
        "_coreheader": [
            f"##TITLE= Parameter file, TopSpin {console.topspin}",
            "##JCAMPDX= 5.0",
            "##DATATYPE= Parameter Values",
            "##ORIGIN= Bruker BioSpin GmbH",
            f"##OWNER= {console.owner}",
        ],
        "_comments": [
            f"$$ {stamp.strftime('%Y-%m-%d %H:%M:%S.000 +0000')}  {console.owner}@dac-nmr",
            f"$$ /opt/nmrdata/{folder.parent.name}/{folder.name}/acqus",
        ],
        "AQ_mod": 3,
        "BF1": bf1_mhz,
        "BYTORDA": 0,
        "D": d,
        "DATE": int(stamp.timestamp()),
        "DECIM": acq.decim if acq.decim > 1 else _decim(acq.spectral_width_hz),
        "DIGMOD": 1,
        "DS": 0,
        "DSPFVS": console.dspfvs,
        "DTYPA": console.dtypa,
        "GRPDLY": acq.group_delay_points or console.group_delay_points,
        "INSTRUM": "dacnmr",
        "NS": acq.n_scans,
        "NUC1": _NUC_LABEL.get(acq.nucleus, acq.nucleus),
        "O1": (acq.observe_frequency_hz - acq.base_frequency_hz),
        "P": p,
        "PULPROG": acq.sequence,
        "RG": acq.receiver_gain,
        "SFO1": sfo1_mhz,
        "SW": acq.spectral_width_hz / sfo1_mhz,
        "SW_h": acq.spectral_width_hz,
        "TD": td,
        "TE": acq.temperature_k,
    }
    if acq.delays_s is not None:
        params["VDLIST"] = "vdlist"
    return params


def _acqu2s(acq: Acquisition, console: BrukerConsole) -> dict:
    return {
        "_coreheader": [
            f"##TITLE= Parameter file, TopSpin {console.topspin}",
            "##JCAMPDX= 5.0",
            "##DATATYPE= Parameter Values",
            "##ORIGIN= Bruker BioSpin GmbH",
            f"##OWNER= {console.owner}",
        ],
        "_comments": [],
        "FnMODE": 1,
        "NUC1": _NUC_LABEL.get(acq.nucleus, acq.nucleus),
        "SFO1": acq.observe_frequency_hz / 1e6,
        "TD": acq.n_increments,
    }


#: Pulse program bodies: zg (one pulse), saturation recovery (a pulse train, then the vdlist
#: delay), Hahn echo (vdlist = tau on both sides of the pi pulse), solid echo (d6 = tau).
_PULSE_PROGRAM_BODIES = {
    "zg": """\
ze
1 d1
  p1 ph1
  go=1 ph31
  wr #0
exit
""",
    "satrec_dac": """\
ze
1 d1
  10u pl1:f1
2 p1 ph1
  d20
  lo to 2 times l20
  vd
  p1 ph2
  go=1 ph31
  wr #0 if #0 ivd
  lo to 1 times td1
exit
""",
    "hahnecho_dac": """\
ze
1 d1
  p1 ph1
  vd
  p2 ph2
  vd
  go=1 ph31
  wr #0 if #0 ivd
  lo to 1 times td1
exit
""",
    "hahnechovd2_dac": """\
;vdlist holds the full echo time 2 tau: vd*0.5 on each side of the pi pulse
ze
1 d1
  p1 ph1
  vd*0.5
  p2 ph2
  vd*0.5
  go=1 ph31
  wr #0 if #0 ivd
  lo to 1 times td1
exit
""",
    "solidecho_dac": """\
ze
1 d1
  p1 ph1
  d6
  p1 ph2
  d6
  go=1 ph31
  wr #0
exit
""",
}


def _pulse_program(acq: Acquisition) -> str:
    """A short, readable pulse program whose first line names it (TopSpin style comments)."""
    dim = "2D" if acq.delays_s is not None else "1D"
    head = (
        f";{acq.sequence}\n"
        ";hydrofw example campaign: DAC probe with Lenz-lens resonator\n"
        f";$CLASS=Solids\n;$DIM={dim}\n;$TYPE=\n;$SUBTYPE=\n;$COMMENT=\n\n"
        "#include <Avance.incl>\n\n"
    )
    return head + _PULSE_PROGRAM_BODIES[acq.sequence]


def _scaled(data: np.ndarray, console: BrukerConsole, scale: float) -> np.ndarray:
    """Data in ADC-like units: float64 as is, int32 rounded (and kept below full scale)."""
    if console.dtypa == 2:
        return data * scale
    peak = float(np.max(np.abs(np.concatenate([data.real.ravel(), data.imag.ravel()]))))
    factor = min(scale, _INT32_FULL_SCALE / peak) if peak > 0 else scale
    return np.round(data.real * factor) + 1j * np.round(data.imag * factor)


def write_bruker(folder: Path, acq: Acquisition, console: BrukerConsole) -> Path:
    """Write ``acq`` as the Bruker experiment folder ``folder`` (created); return it.

    The data are scaled by the receiver gain (``RG``) into ADC-like counts; int32 consoles
    round them. ``delays_s`` becomes ``vdlist`` (seconds, one per line) and the data a ``ser``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    td = 2 * acq.n_points
    dic = {"acqus": _acqus(acq, console, folder, td)}
    if acq.n_increments > 1 or acq.delays_s is not None:
        dic["acqu2s"] = _acqu2s(acq, console)
    data = _scaled(np.asarray(acq.data), console, 64.0 * acq.receiver_gain)
    ng.bruker.write(str(folder), dic, data, write_prog=False, overwrite=True)
    (folder / "pulseprogram").write_text(_pulse_program(acq))
    if acq.delays_s is not None:
        (folder / "vdlist").write_text("".join(f"{d:.6g}\n" for d in acq.delays_s))
    pdata = folder / "pdata" / "1"
    pdata.mkdir(parents=True, exist_ok=True)
    (pdata / "title").write_text(acq.title + "\n")
    return folder
