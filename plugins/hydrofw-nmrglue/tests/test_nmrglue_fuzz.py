"""Mutated real files (truncated, bytes flipped, header records deleted) raise only
hydrofw.errors exceptions. The readers are called directly, not through hydrofw.read, so a raw
exception cannot hide behind the core's catch-all."""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path

import pytest
from hydrofw_nmrglue import bruker, jcampdx, tecmag, varian
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hydrofw.errors import HydrofwError
from hydrofw.source import open_source

# (reader, dataset, file that gets mutated; "" = the dataset itself is that file)
CASES = [
    (bruker, "bruker/topspin32-1h-500/1", "fid"),
    (bruker, "bruker/topspin32-1h-500/1", "acqus"),
    (bruker, "bruker/topspin13-odnp-1h-15mhz-t1-ser/28", "acqu2s"),
    (bruker, "bruker/topspin13-odnp-1h-15mhz-t1-ser/28", "vdlist"),
    (tecmag, "tecmag/tnt1005-dnplab-1d/1D.tnt", ""),
    (varian, "varian/vnmrs-87rb-196-satrec-solid/satrec2D.fid", "fid"),
    (varian, "varian/vnmrs-87rb-196-satrec-solid/satrec2D.fid", "procpar"),
    (jcampdx, "jcampdx/bruker-ntuples-reim-1024/jcamp-1024.jdx", ""),
    (jcampdx, "jcampdx/jeol-1h-400-spectrum/jeol.dx", ""),
    (tecmag, "tecmag/tnt1001-fid-1999/FID_0.tnt", ""),
    (bruker, "bruker/topspin406-1h-400-strychnine/10", "acqus"),
    (varian, "varian/inova-31p-162-array24/test1.fid", "procpar"),
]

mutation = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0.0, 1.0)),
    st.tuples(
        st.just("flip"),
        st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), min_size=1, max_size=8),
    ),
    st.tuples(st.just("drop_line"), st.lists(st.floats(0.0, 1.0), min_size=1, max_size=4)),
)


def _mutate(data: bytes, how: tuple) -> bytes:
    kind, arg = how
    if kind == "truncate":
        return data[: int(len(data) * arg)]
    if kind == "flip":
        out = bytearray(data)
        for where, mask in arg:
            if out:
                out[min(int(where * len(out)), len(out) - 1)] ^= mask
        return bytes(out)
    lines = data.split(b"\n")
    for where in arg:
        if lines:
            del lines[min(int(where * len(lines)), len(lines) - 1)]
    return b"\n".join(lines)


@pytest.mark.parametrize(
    ("reader", "rel", "member"),
    CASES,
    ids=[f"{c[1].split('/')[1]}-{c[2] or 'file'}" for c in CASES],
)
def test_mutations_raise_only_hydrofw_errors(real_data, reader, rel, member):
    original = real_data / rel
    target_rel = member

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(how=mutation)
    def check(how):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / original.name
            if original.is_dir():
                shutil.copytree(original, copy)
            else:
                shutil.copy(original, copy)
            target = copy / target_rel if target_rel else copy
            target.chmod(0o644)
            target.write_bytes(_mutate(target.read_bytes(), how))
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    list(reader.read(open_source(copy)))
            except HydrofwError as exc:
                assert copy.name in str(exc)

    check()
