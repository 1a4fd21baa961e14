"""Varian/Agilent VnmrJ experiment folders (``NAME.fid/fid`` + ``procpar``) written with
:func:`nmrglue.varian.write`, imitating a VNMRS console (float32 data, one block per trace).

Arrayed relaxation series store their delays in the array parameter named by ``array``
(``d2`` for saturation recovery, ``tau`` for the Hahn-echo half time), as VnmrJ does.
``date``/``time_run``/``time_complete`` are the console's local wall clock
(``Acquisition.clock_utc_offset_h``); ``rof2 + alfa`` is the receiver dead time (the time of
the first point after the pulse) and ``fb`` the analog filter bandwidth.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import nmrglue as ng
import numpy as np

from .acquisition import Acquisition

__all__ = ["write_varian", "VARIAN_ARRAY_PARAMETER"]

#: procpar parameter holding the delays of each arrayed sequence
VARIAN_ARRAY_PARAMETER = {"satrec": "d2", "hahnecho": "tau"}
#: alfa (us): the part of the receiver dead time after rof2
VARIAN_ALFA_US = 1.0

_TN = {"1H": "H1", "139La": "La139", "63Cu": "Cu63"}


def _param(name: str, values: list[str], *, string: bool, subtype: str | None = None) -> dict:
    """One procpar entry in nmrglue's dictionary layout."""
    return {
        "name": name,
        "subtype": subtype or ("2" if string else "1"),
        "basictype": "2" if string else "1",
        "maxvalue": "1e+18" if not string else "256",
        "minvalue": "-1e+18" if not string else "0",
        "stepsize": "0",
        "Ggroup": "2",
        "Dgroup": "1",
        "protection": "0",
        "active": "1",
        "intptr": "64",
        "values": values,
        "enumerable": "0",
    }


def _procpar(acq: Acquisition) -> dict[str, dict]:
    # the console's wall clock (its own time zone, written without one, as VnmrJ does)
    stamp = acq.acquired_at.astimezone(dt.timezone(dt.timedelta(hours=acq.clock_utc_offset_h)))
    dead_us = acq.dead_time_s * 1e6
    rof2_us = max(dead_us - VARIAN_ALFA_US, 0.0) if dead_us else 2.0
    alfa_us = VARIAN_ALFA_US if dead_us else 1.0
    reals = {
        "sfrq": acq.observe_frequency_hz / 1e6,
        "sw": acq.spectral_width_hz,
        "np": 2 * acq.n_points,
        "nt": acq.n_scans,
        "ct": acq.n_scans,
        "d1": acq.recycle_delay_s,
        "pw": acq.pulse_length_s * 1e6,
        "pw90": acq.pulse_length_s * 1e6,
        "rof2": round(rof2_us, 3),
        "alfa": round(alfa_us, 3),
        "fb": acq.filter_bandwidth_hz or acq.spectral_width_hz / 2,
        "gain": acq.receiver_gain,
        "temp": acq.temperature_k - 273.15,
        "arraydim": acq.n_increments,
        "celem": acq.n_increments,
        "acqdim": 1,
        "tof": acq.observe_frequency_hz - acq.base_frequency_hz,
        "reffrq": acq.base_frequency_hz / 1e6,
    }
    strings = {
        "tn": _TN.get(acq.nucleus, acq.nucleus),
        "seqfil": acq.sequence,
        "pslabel": acq.sequence,
        "console": "vnmrs",
        "dp": "y",
        "date": stamp.strftime("%b %d %Y"),
        "time_run": stamp.strftime("%Y%m%dT%H%M%S"),
        "time_complete": (stamp + dt.timedelta(seconds=acq.duration_s)).strftime("%Y%m%dT%H%M%S"),
        "operator_": "dacnmr",
        "comment": acq.title,
        "array": "",
    }
    pp = {
        k: _param(k, [repr(float(v)) if not float(v).is_integer() else str(int(v))], string=False)
        for k, v in reals.items()
    }
    pp.update({k: _param(k, [v], string=True) for k, v in strings.items()})
    if acq.delays_s is not None:
        name = VARIAN_ARRAY_PARAMETER[acq.sequence]
        pp["array"] = _param("array", [name], string=True)
        pp[name] = _param(name, [f"{d:.6g}" for d in acq.delays_s], string=False, subtype="3")
    return pp


def write_varian(folder: Path, acq: Acquisition) -> Path:
    """Write ``acq`` as the VnmrJ folder ``folder`` (``*.fid``, created); return it.

    Data are scaled by the receiver ``gain`` into ADC-like float32 values.
    """
    folder.mkdir(parents=True, exist_ok=True)
    data = np.atleast_2d(np.asarray(acq.data)) * (16.0 * acq.receiver_gain)
    n_blocks, n_points = data.shape
    dic = {
        "nblocks": n_blocks,
        "ntraces": 1,
        "np": 2 * n_points,
        "ebytes": 4,
        "tbytes": 8 * n_points,
        "bbytes": 8 * n_points + 28,
        "vers_id": 0,
        "status": 201,
        "nbheaders": 1,
        "S_DATA": 1,
        "S_SPEC": 0,
        "S_32": 0,
        "S_FLOAT": 1,
        "S_COMPLEX": 0,
        "S_HYPERCOMPLEX": 0,
        "S_ACQPAR": 1,
        "S_SECND": 0,
        "S_TRANSF": 0,
        "S_NP": 0,
        "S_NF": 0,
        "S_NI": 0,
        "S_NI2": 0,
        "procpar": _procpar(acq),
    }
    ng.varian.write(str(folder), dic, data.astype(np.complex64), overwrite=True)
    return folder
