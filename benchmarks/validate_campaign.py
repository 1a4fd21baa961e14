"""Validate the main job against the example generator's ground truth over many seeds.

For each seed: write the example campaign (``--small``: fewer sessions, faster), run
``hydrofw.run`` on it through the library API, and compare the store's tables with
``ground_truth.json``:

* hydride-only calibrated H/La (``quantification``): share within +-6 % of the truth, z-score
  statistics (std of z, share of truths inside the 95 % interval); the total-1H H/La beside it;
* H2 fraction, r_n and r_nn (``decomposition``; the solid-echo ``pake_fit`` as a fallback)
  where the H2 fraction is >= 5 %, Bruker and Varian cells separately;
* T2 of the issue-11 pair (Bruker N1: vdlist = 2 tau; Varian N3: tau array) within 1 %;
* UTC acquisition times of the analysed spectra (Varian N3 runs on local time UTC+8);
* DAC-corrected 1H and 139La shifts and sigma_DAC (``dac_shielding``): 95 % coverage;
* kinetics of the hydride H/La: x_inf and tau inside their 95 % intervals.

Tables or columns not (yet) produced by the pipeline are reported as ``missing``, never
guessed. Usage::

    python benchmarks/validate_campaign.py 2 --small          # two seeds, small variant
    python benchmarks/validate_campaign.py 100 --start 1000   # the issue-10 acceptance run
    python benchmarks/validate_campaign.py 3 --json out.json --keep /tmp/validate

Nothing here asserts; it prints a summary table and writes JSON (default
``validate_campaign.json`` in the working folder).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import shutil
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

Z95 = 1.959963984540054
BRUKER, VARIAN = ("N1", "N2"), ("N3",)
PAIR = {"N1": "bruker", "N3": "varian"}


# ----------------------------------------------------------------------------- helpers
def _rows(store: Any, name: str) -> list[dict[str, Any]] | None:
    """All rows of a store table, or None when the table does not exist (yet)."""
    try:
        return store.table(name).to_pylist()
    except Exception:  # noqa: BLE001 - any failure means: not available in this store
        return None


def _utc(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _session(truth: dict[str, Any], cell: str, days: float | None) -> dict[str, Any] | None:
    """The truth session nearest ``days`` (within 0.5 d), None otherwise."""
    cells = truth["cells"]
    if cell not in cells or days is None or cells[cell]["kind"] != "nmr":
        return None
    best = min(cells[cell]["days"], key=lambda d: abs(d["days_since_synthesis"] - days))
    return best if abs(best["days_since_synthesis"] - days) < 0.5 else None


def _first(row: dict[str, Any], *names: str) -> Any:
    for n in names:
        if n in row and row[n] is not None:
            return row[n]
    return None


def _finite(*values: Any) -> bool:
    return all(v is not None and isinstance(v, int | float) and math.isfinite(v) for v in values)


class Metric:
    """Collects (value, error, truth) triples of one quantity and summarises them."""

    def __init__(self) -> None:
        self.triples: list[tuple[float, float | None, float]] = []
        self.note: str | None = None

    def add(self, value: Any, err: Any, true: Any) -> None:
        if _finite(value, true):
            self.triples.append((float(value), float(err) if _finite(err) else None, float(true)))

    def summary(self, rel_tol: float | None = None, abs_tol: float | None = None) -> dict:
        if not self.triples:
            return {"status": "missing", "note": self.note}
        v, e, t = (
            np.array([x[i] if x[i] is not None else np.nan for x in self.triples]) for i in range(3)
        )
        out: dict[str, Any] = {"status": "ok", "n": int(v.size)}
        if rel_tol is not None:
            out[f"within_{rel_tol:.0%}"] = float(np.mean(np.abs(v / t - 1) <= rel_tol))
        if abs_tol is not None:
            out[f"within_{abs_tol:g}"] = float(np.mean(np.abs(v - t) <= abs_tol))
            out["max_abs_err"] = float(np.max(np.abs(v - t)))
        ok = np.isfinite(e) & (e > 0)
        if ok.any():
            z = (v[ok] - t[ok]) / e[ok]
            out.update(
                n_with_err=int(ok.sum()),
                z_std=float(np.std(z)),
                z_mean=float(np.mean(z)),
                cover95=float(np.mean(np.abs(z) <= Z95)),
            )
        out["median_rel_err"] = float(np.median(np.abs(v / np.where(t == 0, np.nan, t) - 1)))
        if self.note:
            out["note"] = self.note
        return out


# ----------------------------------------------------------------------------- checks
#: truth key of each ``counted`` signal of the quantification table
_COUNTED_TRUTH = {
    "hydride": "h_over_la",
    "metal_hydride": "h_over_la_metal_hydride",
    "total": "h_over_la_total",
}


def check_quantification(store: Any, truth: dict, acc: dict[str, Metric]) -> None:
    """Counted and total H/La, first-principles and calibrated, against their truths.

    ``h_over_la_hydride_*`` collect the ratios of rows that count the hydride or the metal
    hydride (1H less H2), compared with the hydride truth; ``h_over_la_<counted>_*`` compare
    each with its own truth (metal hydride = hydride + precursor residue)."""
    rows = _rows(store, "quantification")
    if rows is None:
        acc["h_over_la_hydride_calibrated"].note = "no quantification table"
        return
    counted_seen = set()
    for r in rows:
        s = _session(truth, r["cell"], r.get("days_since_synthesis"))
        if not s or s["nominal_day"] <= 0:
            continue
        counted = str(r.get("counted") or "total")
        counted_seen.add(counted)
        key = _COUNTED_TRUTH.get(counted)
        if key is None:
            continue
        for kind in ("first_principles", "calibrated"):
            value, err = r.get(f"ratio_{kind}"), r.get(f"ratio_{kind}_err")
            if "ratio_first_principles" not in r and kind == "first_principles":
                value, err = r.get("ratio"), r.get("ratio_err")  # older layout
            true = s.get(key, s["h_over_la"] + s.get("residue_h_per_la", 0.0))
            acc[f"h_over_la_{counted}_{kind}"].add(value, err, true)
            if counted != "total":
                acc[f"h_over_la_hydride_{kind}"].add(value, err, s["h_over_la"])
            if counted != "total":  # the total beside a counted component
                total = r.get(f"ratio_total_{kind}")
                total_err = r.get(f"ratio_total_{kind}_err")
                acc[f"h_over_la_total_{kind}"].add(total, total_err, s["h_over_la_total"])
        if r.get("h2_fraction") is not None:
            acc[f"quantification_h2_fraction_{_family(r['cell'])}"].add(
                r["h2_fraction"], r.get("h2_fraction_err"), s["h2_fraction"]
            )
    if not any(c in counted_seen for c in ("hydride", "metal_hydride")):
        acc[
            "h_over_la_hydride_calibrated"
        ].note = f"no hydride-only rows (counted: {sorted(counted_seen)})"


def check_timeseries_h(store: Any, truth: dict, acc: dict[str, Metric]) -> None:
    """Every H/La time series of the store against the hydride (or, for ``*total*``, the
    total-1H) truth, post-synthesis sessions only."""
    for r in _rows(store, "timeseries") or []:
        q = str(r.get("quantity") or "")
        if not q.startswith("h_over_la"):
            continue
        s = _session(truth, r["cell"], r.get("days_since_synthesis"))
        if s and s["nominal_day"] > 0:
            true = s["h_over_la_total"] if "total" in q else s["h_over_la"]
            acc[f"timeseries_{q}"].add(r.get("value"), r.get("value_err"), true)


def _family(cell: str) -> str:
    return "bruker" if cell in BRUKER else "varian" if cell in VARIAN else "other"


def check_h2(store: Any, truth: dict, acc: dict[str, Metric]) -> None:
    rows = _rows(store, "decomposition")
    if not rows:
        why = "no decomposition table" if rows is None else "decomposition table has no rows"
        for fam in ("bruker", "varian"):
            for q in ("h2_fraction", "r_n", "r_nn"):
                acc[f"decomposition_{q}_{fam}"].note = why
    else:
        for r in rows:
            s = _session(truth, r["cell"], r.get("days_since_synthesis"))
            if not s or s["nominal_day"] <= 0:
                continue
            fam = _family(r["cell"])
            frac = _first(r, "h2_fraction")
            acc[f"decomposition_h2_fraction_{fam}"].add(
                frac, r.get("h2_fraction_err"), s["h2_fraction"]
            )
            if s["h2_fraction"] < 0.05:
                continue
            rn = _first(r, "r_n_angstrom", "distance_n_angstrom")
            rnn = _first(r, "r_nn_angstrom", "distance_nn_angstrom")
            if rn is None and isinstance(r.get("distance_angstrom"), list):
                d, e = r["distance_angstrom"], r.get("distance_angstrom_err") or [None, None]
                rn, rnn = (d + [None, None])[:2]
                r = {
                    **r,
                    "r_n_angstrom_err": e[0],
                    "r_nn_angstrom_err": e[1] if len(e) > 1 else None,
                }
            acc[f"decomposition_r_n_{fam}"].add(rn, r.get("r_n_angstrom_err"), s["r_n_angstrom"])
            acc[f"decomposition_r_nn_{fam}"].add(
                rnn, r.get("r_nn_angstrom_err"), s["r_nn_angstrom"]
            )
    # the solid-echo Pake fits (dedicated experiments)
    for r in _rows(store, "pake_fit") or []:
        s = _session(truth, r["cell"], r.get("days_since_synthesis"))
        if not s or s["h2_fraction"] < 0.05 or "distance_unconstrained" in (r.get("flags") or []):
            continue
        d, e = r.get("distance_angstrom") or [], r.get("distance_angstrom_err") or []
        if len(d) >= 2:
            fam = _family(r["cell"])
            acc[f"pake_fit_r_n_{fam}"].add(d[0], e[0] if e else None, s["r_n_angstrom"])
            acc[f"pake_fit_r_nn_{fam}"].add(d[1], e[1] if len(e) > 1 else None, s["r_nn_angstrom"])
    for r in _rows(store, "timeseries") or []:
        if r.get("quantity") == "h2_fraction":
            s = _session(truth, r["cell"], r.get("days_since_synthesis"))
            if s and s["h2_fraction"] >= 0.05:
                acc[f"timeseries_h2_fraction_{_family(r['cell'])}"].add(
                    r["value"], r.get("value_err"), s["h2_fraction"]
                )


def check_t2_pair(store: Any, truth: dict, acc: dict[str, Metric]) -> None:
    for r in _rows(store, "relaxation_fit") or []:
        if r["cell"] not in PAIR or r.get("t2_s") is None:
            continue
        s = _session(truth, r["cell"], r.get("days_since_synthesis"))
        if s:
            true = next((e["t2_s"] for e in s["experiments"] if "t2_s" in e), None)
            acc[f"t2_{PAIR[r['cell']]}"].add(r["t2_s"], r.get("t2_s_err"), true)


def check_times(store: Any, root: Path, truth: dict, acc: dict[str, Metric]) -> None:
    """acquired_at of analysed spectra (lineshape rows, via their spectrum's source path)."""
    by_path = {}
    for cell in truth["cells"].values():
        if cell["kind"] == "nmr":
            for d in cell["days"]:
                for e in d["experiments"]:
                    by_path[e["path"]] = e
    spectra = _rows(store, "spectrum") or []
    paths = {}
    for sp in spectra:
        src = str(sp.get("source_path") or "")
        rel = src.split(str(root) + "/", 1)[-1] if str(root) in src else src
        paths[sp["id"]] = rel
        e = by_path.get(rel)
        if e is not None and _utc(sp.get("acquired_at")) is not None:
            err = abs((_utc(sp["acquired_at"]) - _utc(e["acquired_at"])).total_seconds())
            acc[f"utc_time_raw_spectrum_{_family(rel.split('/')[1])}"].add(err, None, 0.0)
    for r in _rows(store, "lineshape") or []:
        e = by_path.get(paths.get(r.get("spectrum_id"), ""))
        if e is not None and _utc(r.get("acquired_at")) is not None:
            err = abs((_utc(r["acquired_at"]) - _utc(e["acquired_at"])).total_seconds())
            acc[f"utc_time_lineshape_{_family(r['cell'])}"].add(err, None, 0.0)


def check_shifts(store: Any, root: Path, truth: dict, acc: dict[str, Metric]) -> None:
    spectra = {sp["id"]: sp for sp in _rows(store, "spectrum") or []}
    by_path = {
        e["path"]: e
        for c in truth["cells"].values()
        if c["kind"] == "nmr"
        for d in c["days"]
        for e in d["experiments"]
    }
    for r in _rows(store, "lineshape") or []:
        sp = spectra.get(r.get("spectrum_id"))
        if sp is None:
            continue
        src = str(sp.get("source_path") or "")
        e = by_path.get(src.split(str(root) + "/", 1)[-1])
        if e is None or e.get("kind") != "fid" or e["nucleus"] not in ("1H", "139La"):
            continue
        if e["days_since_synthesis"] <= 0:
            continue
        key = "h" if e["nucleus"] == "1H" else "la"
        acc[f"{key}_shift_ppm_{_family(r['cell'])}"].add(
            r.get("peak_ppm"), r.get("peak_ppm_err"), e["shift_ppm"]
        )
    rows = _rows(store, "dac_shielding")
    if rows is None:
        acc["sigma_dac_ppm"].note = "no dac_shielding table"
    for r in rows or []:
        s = _session(truth, r["cell"], r.get("days_since_synthesis"))
        if s:
            acc["sigma_dac_ppm"].add(
                r.get("sigma_dac_ppm"), r.get("sigma_dac_ppm_err"), s["sigma_dac_ppm"]
            )


def check_kinetics(store: Any, truth: dict, acc: dict[str, Metric]) -> None:
    rows = _rows(store, "kinetics")
    if rows is None:
        acc["kinetics_x_inf"].note = "no kinetics table"
        return
    names = ("h_over_la_calibrated", "h_over_la")
    present = {r["quantity"] for r in rows}
    quantity = next((q for q in names if q in present), None)
    for m in ("kinetics_x_inf", "kinetics_tau_days", "kinetics_x0"):
        acc[m].note = f"kinetics quantity {quantity!r}"
    for r in rows:
        if r["quantity"] != quantity or truth["cells"][r["cell"]]["kind"] != "nmr":
            continue
        p = truth["cells"][r["cell"]]["parameters"]
        acc["kinetics_x_inf"].add(r.get("x_inf"), r.get("x_inf_err"), p["h_over_la_inf"])
        acc["kinetics_tau_days"].add(r.get("tau_days"), r.get("tau_days_err"), p["tau_days"])
        acc["kinetics_x0"].add(r.get("x0"), r.get("x0_err"), p["h_over_la_0"])


# ----------------------------------------------------------------------------- driver
def run_seed(
    seed: int, small: bool, keep: Path | None, existing: Path | None = None
) -> dict[str, Any]:
    """Generate, run and compare one seed (``existing``: compare an already-run campaign)."""
    from hydrofw_campaign.example import write_example_campaign

    import hydrofw

    base = keep if keep is not None else Path(tempfile.mkdtemp(prefix="hydrofw-validate-"))
    root = existing if existing is not None else base / f"seed{seed}"
    out: dict[str, Any] = {"seed": seed}
    t0 = time.perf_counter()
    if existing is None:
        if root.exists():
            shutil.rmtree(root)
        write_example_campaign(root, seed=seed, small=small)
    out["generate_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    try:
        if existing is not None:
            raise _Skip
        summary = hydrofw.run(root, progress=False)
        out["run_failed_files"] = len(summary.get("failed") or [])
        out["step_failures"] = [str(f) for f in summary.get("step_failures") or []]
        out["notes"] = [str(n) for n in summary.get("notes") or []][:20]
    except _Skip:
        pass
    except Exception as exc:  # noqa: BLE001 - recorded, the store may still be readable
        out["run_error"] = f"{type(exc).__name__}: {exc}"
        out["run_traceback"] = traceback.format_exc(limit=4)
    out["run_s"] = time.perf_counter() - t0
    truth = json.loads((root / "ground_truth.json").read_text())
    acc: dict[str, Metric] = defaultdict(Metric)
    store = hydrofw.open_store(root / "store")
    for check in (
        check_quantification,
        check_timeseries_h,
        check_h2,
        check_t2_pair,
        check_kinetics,
    ):
        try:
            check(store, truth, acc)
        except Exception as exc:  # noqa: BLE001
            out.setdefault("check_errors", []).append(f"{check.__name__}: {exc!r}")
    for check in (check_times, check_shifts):
        try:
            check(store, root, truth, acc)
        except Exception as exc:  # noqa: BLE001
            out.setdefault("check_errors", []).append(f"{check.__name__}: {exc!r}")
    out["metrics"] = {k: m.triples for k, m in acc.items()}
    out["notes_per_metric"] = {k: m.note for k, m in acc.items() if m.note}
    if keep is None:
        shutil.rmtree(base, ignore_errors=True)
    return out


class _Skip(Exception):
    """Internal: compare an existing campaign without running it."""


#: how each metric is summarised: relative or absolute tolerance
_TOLERANCES: dict[str, dict[str, float]] = {
    "h_over_la": {"rel_tol": 0.06},
    "t2_": {"rel_tol": 0.01},
    "utc_time": {"abs_tol": 2.0},
    "r_n": {"abs_tol": 0.02},
    "h2_fraction": {"abs_tol": 0.02},
    "kinetics": {"rel_tol": 0.1},
    "shift_ppm": {"abs_tol": 5.0},
    "sigma_dac": {"abs_tol": 2.0},
}


def _tolerance(name: str) -> dict[str, float]:
    for key, tol in _TOLERANCES.items():
        if key in name:
            return tol
    return {}


def aggregate(results: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Metric] = defaultdict(Metric)
    for res in results:
        for name, triples in res["metrics"].items():
            merged[name].triples.extend(tuple(t) for t in triples)
        for name, note in res.get("notes_per_metric", {}).items():
            merged[name].note = note
    expected = [
        "h_over_la_hydride_calibrated",
        "h_over_la_hydride_first_principles",
        "decomposition_h2_fraction_bruker",
        "decomposition_h2_fraction_varian",
        "decomposition_r_n_bruker",
        "decomposition_r_n_varian",
        "decomposition_r_nn_bruker",
        "decomposition_r_nn_varian",
        "t2_bruker",
        "t2_varian",
        "sigma_dac_ppm",
        "kinetics_x_inf",
        "kinetics_tau_days",
    ]
    names = sorted(set(merged) | set(expected))
    return {n: merged[n].summary(**_tolerance(n)) for n in names}


def print_table(summary: dict[str, Any], results: list[dict[str, Any]]) -> None:
    print(
        f"\nseeds: {[r['seed'] for r in results]}  "
        f"generate {np.mean([r['generate_s'] for r in results]):.1f} s, "
        f"run {np.mean([r['run_s'] for r in results]):.1f} s per seed (mean)"
    )
    for r in results:
        if "run_error" in r:
            print(f"  seed {r['seed']}: hydrofw.run raised {r['run_error'][:160]}")
        for err in r.get("check_errors", []):
            print(f"  seed {r['seed']}: {err[:160]}")
    head = (
        f"{'metric':44s} {'n':>5s} {'tol share':>10s} {'cover95':>8s} {'z std':>7s} "
        f"{'z mean':>7s} {'med rel':>8s}"
    )
    print(head)
    print("-" * len(head))
    for name, s in summary.items():
        if s["status"] != "ok":
            print(f"{name:44s} {'missing':>5s}  {s.get('note') or ''}")
            continue
        tol = next((v for k, v in s.items() if k.startswith("within_")), None)

        def f(x: Any, fmt: str) -> str:
            return format(x, fmt) if x is not None else "-"

        print(
            f"{name:44s} {s['n']:5d} {f(tol, '10.3f')} {f(s.get('cover95'), '8.3f')} "
            f"{f(s.get('z_std'), '7.2f')} {f(s.get('z_mean'), '7.2f')} "
            f"{f(s.get('median_rel_err'), '8.4f')}"
        )


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n_seeds", type=int, nargs="?", default=2)
    ap.add_argument("--start", type=int, default=1, help="first seed (default 1)")
    ap.add_argument("--small", action="store_true", help="the example's small variant")
    ap.add_argument("--json", type=Path, default=Path("validate_campaign.json"))
    ap.add_argument("--keep", type=Path, default=None, help="keep campaigns under this folder")
    ap.add_argument(
        "--existing",
        type=Path,
        default=None,
        help="compare this already-run example campaign (no generation, no run)",
    )
    args = ap.parse_args(argv)
    if args.existing is not None:
        seed = json.loads((args.existing / "ground_truth.json").read_text())["seed"]
        results = [run_seed(seed, args.small, None, existing=args.existing)]
        summary = aggregate(results)
        print_table(summary, results)
        args.json.write_text(json.dumps({"summary": summary}, indent=1, default=str) + "\n")
        return 0
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    results = []
    for seed in range(args.start, args.start + args.n_seeds):
        print(f"seed {seed} ...", flush=True)
        results.append(run_seed(seed, args.small, args.keep))
    summary = aggregate(results)
    print_table(summary, results)
    args.json.write_text(
        json.dumps(
            {
                "seeds": [r["seed"] for r in results],
                "small": args.small,
                "summary": summary,
                "per_seed": [{k: v for k, v in r.items() if k != "metrics"} for r in results],
                "values": {r["seed"]: r["metrics"] for r in results},
            },
            indent=1,
            default=str,
        )
        + "\n"
    )
    print(f"\nwritten: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
