"""The main job: ingest a campaign's raw files into the store, then hand over to campaign plugins.

Discovery walks ``raw/`` top-down and offers every folder and file to the readers' sniffers; a
folder that a reader claims (a Bruker experiment, a Varian ``.fid``) is read as one dataset and
not descended into. Files that no reader claims are listed as skipped with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa

from .api import read_records
from .errors import CampaignError, HydrofwError
from .records import to_table
from .registry import Reader, get_registry
from .schema import identify
from .source import FileSource
from .store import Store, open_store

__all__ = ["run", "discover", "ingest", "Dataset"]

_MIN_CONFIDENCE = 0.5


@attrs.frozen
class Dataset:
    """One raw dataset found under ``raw/``: its path, the reader chosen and the cell."""

    path: Path
    reader: str
    cell: str | None


def discover(raw_dir: Path) -> tuple[list[Dataset], list[tuple[Path, str]]]:
    """Datasets under ``raw_dir`` and the skipped files with the reason."""
    registry = get_registry()
    found: list[Dataset] = []
    skipped: list[tuple[Path, str]] = []

    def best(path: Path) -> Reader | None:
        ranked = registry.sniff(FileSource(path))
        return ranked[0][1] if ranked and ranked[0][0] >= _MIN_CONFIDENCE else None

    def walk(folder: Path) -> None:
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith("."):
                continue
            reader = best(entry)
            if reader is not None:
                found.append(Dataset(entry, reader.name, _cell_of(entry, raw_dir)))
            elif entry.is_dir():
                walk(entry)
            else:
                skipped.append((entry, "no reader recognises this file"))

    walk(raw_dir)
    return found, skipped


def _cell_of(path: Path, raw_dir: Path) -> str | None:
    rel = path.relative_to(raw_dir)
    return rel.parts[0] if len(rel.parts) > 1 else None


def read_dataset(ds: Dataset) -> pa.Table | str | None:
    """Read one dataset into a table (cell attached); the error message on failure."""
    try:
        records = [
            r.evolve(cell=ds.cell) if getattr(r, "cell", None) is None and ds.cell else r
            for r in read_records(ds.path, ds.reader)
        ]
        return to_table(records) if records else None
    except HydrofwError as exc:
        return str(exc)


def _dask_map(datasets: list[Dataset]) -> Iterator[tuple[Dataset, pa.Table | str | None]]:
    try:
        from dask.distributed import Client, as_completed, get_client
    except ImportError:
        raise CampaignError(
            "--executor dask needs the optional extra: pip install 'hydrofw[dask]'"
        ) from None
    try:
        client = get_client()
        owned = False
    except ValueError:
        client = Client(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        owned = True
    try:
        futures = {client.submit(read_dataset, ds, pure=False): ds for ds in datasets}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()
    finally:
        if owned:
            client.close()


def ingest(
    datasets: list[Dataset],
    store: Store,
    *,
    progress: bool | None = None,
    executor: str = "local",
) -> tuple[dict[str, int], list[tuple[Path, str]]]:
    """Read every dataset into the store (per-file work local or on Dask; writes stay in this
    process); returns rows added per table and the failures."""
    from .progress import progress_bar

    if executor == "local":
        results: Iterable[tuple[Dataset, pa.Table | str | None]] = (
            (ds, read_dataset(ds)) for ds in datasets
        )
    elif executor == "dask":
        results = _dask_map(datasets)
    else:
        raise CampaignError(f"unknown executor {executor!r} (local or dask)")
    added: dict[str, int] = {}
    failed: list[tuple[Path, str]] = []
    for ds, result in progress_bar(results, desc="ingest", unit="dataset", enabled=progress):
        if isinstance(result, str):
            failed.append((ds.path, result))
            continue
        if result is None:
            continue
        try:
            n = store.write(result)
        except HydrofwError as exc:
            failed.append((ds.path, str(exc)))
            continue
        name = identify(result)[0]  # type: ignore[index]
        added[name] = added.get(name, 0) + n
    return added, failed


def run(
    campaign_dir: str | os.PathLike[str],
    store: str | os.PathLike[str] | None = None,
    report: str | os.PathLike[str] | None = None,
    *,
    executor: str = "local",
    progress: bool | None = None,
) -> dict[str, Any]:
    """Ingest ``campaign_dir/raw`` into the store, then run the campaign plugins.

    Returns a summary: datasets found, rows added per table, skipped and failed files, and what
    the campaign plugins added (results, report files).
    """
    root = Path(campaign_dir)
    raw = root / "raw"
    if not raw.is_dir():
        raise CampaignError(f"{root}: no raw/ folder (expected {raw})")
    store_dir = Path(store) if store is not None else root / "store"
    report_dir = Path(report) if report is not None else root / "report"
    st = open_store(store_dir)
    datasets, skipped = discover(raw)
    added, failed = ingest(datasets, st, progress=progress, executor=executor)
    summary: dict[str, Any] = {
        "campaign": str(root),
        "store": str(store_dir),
        "report": str(report_dir),
        "datasets": len(datasets),
        "rows_added": added,
        "skipped": [(str(p), why) for p, why in skipped],
        "failed": [(str(p), why) for p, why in failed],
    }
    get_registry().pm.hook.hydrofw_campaign_ingested(
        store=st, campaign_dir=root, report_dir=report_dir, summary=summary
    )
    return summary
