"""The main job: ingest a campaign's raw files into the store, then hand over to campaign plugins.

Discovery walks ``raw/`` top-down and offers every folder and file to the readers' sniffers; a
folder that a reader claims (a Bruker experiment, a Varian ``.fid``) is read as one dataset and
not descended into. Files that no reader claims are listed as skipped with the reason.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa

from .api import read_records
from .errors import CampaignError, HydrofwError
from .ingest_index import IngestIndex
from .memory import release_free_memory
from .records import to_table
from .registry import Reader, get_registry
from .runrecord import campaign_record
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


def discover(
    raw_dir: Path, *, boundary: Path | None = None, follow_symlinks: bool | None = None
) -> tuple[list[Dataset], list[tuple[Path, str]]]:
    """Datasets under ``raw_dir`` and the skipped entries with the reason.

    Hostile trees: a symlink is followed only when its target stays inside ``boundary`` (the
    campaign folder; default ``raw_dir``) unless ``follow_symlinks`` (default: the environment
    variable ``HYDROFW_FOLLOW_SYMLINKS=1``, the explicit opt-in for ``hydrofw run``); a folder
    already visited (a symlink loop) is skipped; FIFOs, devices and sockets are skipped, never
    opened.
    """
    if follow_symlinks is None:
        follow_symlinks = os.environ.get("HYDROFW_FOLLOW_SYMLINKS", "") in ("1", "yes", "true")
    registry = get_registry()
    found: list[Dataset] = []
    skipped: list[tuple[Path, str]] = []
    inside = (boundary or raw_dir).resolve()
    seen: set[tuple[int, int]] = set()

    def best(path: Path) -> Reader | None:
        ranked = registry.sniff(FileSource(path))
        return ranked[0][1] if ranked and ranked[0][0] >= _MIN_CONFIDENCE else None

    def admissible(entry: Path) -> os.stat_result | None:
        if entry.is_symlink():
            try:
                target = entry.resolve(strict=True)
            except (OSError, RuntimeError):
                skipped.append((entry, "broken or looping symlink; not followed"))
                return None
            if not follow_symlinks and not target.is_relative_to(inside):
                skipped.append(
                    (
                        entry,
                        "symlink leads outside the campaign folder; not followed "
                        "(HYDROFW_FOLLOW_SYMLINKS=1 follows it)",
                    )
                )
                return None
        try:
            st = entry.stat()
        except OSError as exc:
            skipped.append((entry, f"cannot stat ({exc.strerror})"))
            return None
        if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
            skipped.append((entry, "not a regular file or folder (FIFO, device or socket)"))
            return None
        if stat.S_ISDIR(st.st_mode) and (st.st_dev, st.st_ino) in seen:
            skipped.append((entry, "folder already visited (symlink loop); not descended"))
            return None
        return st

    def walk(folder: Path) -> None:
        try:
            entries = sorted(folder.iterdir())
        except OSError as exc:
            skipped.append((folder, f"cannot list folder ({exc.strerror})"))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            st = admissible(entry)
            if st is None:
                continue
            reader = best(entry)
            if reader is not None:
                found.append(Dataset(entry, reader.name, _cell_of(entry, raw_dir)))
            elif stat.S_ISDIR(st.st_mode):
                seen.add((st.st_dev, st.st_ino))
                walk(entry)
            else:
                skipped.append((entry, "no reader recognises this file"))

    root = raw_dir.stat()
    seen.add((root.st_dev, root.st_ino))
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
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # one dataset never ends the campaign
        return f"{ds.path}: reader {ds.reader!r} failed: {type(exc).__name__}: {exc}"


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
    index: IngestIndex | None = None,
) -> tuple[dict[str, int], list[tuple[Path, str]]]:
    """Read every dataset into the store (per-file work local or on Dask; writes stay in this
    process); returns rows added per table and the failures. With ``index``, every dataset
    read without error is noted in it (see :mod:`hydrofw.ingest_index`)."""
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
    batch = _WriteBatch(store, added, failed, index)
    for ds, result in progress_bar(
        results, desc="ingest", unit="dataset", enabled=progress, total=len(datasets)
    ):
        if isinstance(result, str):
            failed.append((ds.path, result))
        elif result is None:
            if index is not None:
                index.add(ds, None, 0)
        else:
            batch.add(ds, result)
    batch.flush()
    if index is not None:
        index.flush()
    return added, failed


#: datasets' rows held back before one store write (bytes in memory): one part per batch, not
#: per dataset, so that a campaign's raw tables hold few large parts (row groups by file)
INGEST_BATCH_BYTES = 16 * 1024 * 1024


@attrs.define
class _WriteBatch:
    """Rows of read datasets, written to the store a batch at a time (one part per table); a
    dataset goes into the ingest index only once its rows are in the store."""

    store: Store
    added: dict[str, int]
    failed: list[tuple[Path, str]]
    index: IngestIndex | None
    tables: dict[str, list[tuple[Dataset, pa.Table]]] = attrs.field(factory=dict)
    nbytes: int = 0

    def add(self, ds: Dataset, table: pa.Table) -> None:
        name = identify(table)[0]  # type: ignore[index]
        self.tables.setdefault(name, []).append((ds, table))
        self.nbytes += table.nbytes
        if self.nbytes >= INGEST_BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        for name, items in self.tables.items():
            try:
                combined = pa.concat_tables([t for _, t in items], promote_options="default")
                n = self.store.write(combined, name)
            except (HydrofwError, pa.ArrowException):  # find the dataset(s) at fault
                n = self._one_by_one(items)
            else:
                self._noted(items)
            self.added[name] = self.added.get(name, 0) + n
        self.tables, self.nbytes = {}, 0
        release_free_memory()  # what reading the batch's datasets freed

    def _one_by_one(self, items: list[tuple[Dataset, pa.Table]]) -> int:
        n = 0
        for ds, table in items:
            try:
                n += self.store.write(table)
            except HydrofwError as exc:
                self.failed.append((ds.path, str(exc)))
                continue
            self._noted([(ds, table)])
        return n

    def _noted(self, items: list[tuple[Dataset, pa.Table]]) -> None:
        if self.index is not None:
            for ds, table in items:
                self.index.add(ds, identify(table)[0], table.num_rows)  # type: ignore[index]


def run(
    campaign_dir: str | os.PathLike[str],
    store: str | os.PathLike[str] | None = None,
    report: str | os.PathLike[str] | None = None,
    *,
    executor: str = "local",
    progress: bool | None = None,
    incremental: bool = True,
    ready: Callable[[Path], tuple[bool, str]] | None = None,
) -> dict[str, Any]:
    """Ingest ``campaign_dir/raw`` into the store, then run the campaign plugins.

    ``incremental``: datasets already ingested into this store, unchanged (same path, reader
    and files), are not read again, and campaign plugins may take the results of unchanged
    cells from the previous run (``summary["incremental"]``); ``False`` reads every dataset
    (rows stay idempotent) and analyses every cell.
    ``ready(path) -> (ok, why)``: datasets not ready (still being written, for ``hydrofw watch``)
    are listed as skipped with ``"not ready: <why>"`` and left for a later run.

    Returns a summary: datasets found, rows added per table, skipped and failed files, and what
    the campaign plugins added (results, report files).
    """
    root = Path(campaign_dir)
    raw = root / "raw"
    if not raw.is_dir():
        raise CampaignError(f"{root}: no raw/ folder (expected {raw})")
    store_dir = Path(store) if store is not None else root / "store"
    report_dir = Path(report) if report is not None else root / "report"
    registry = get_registry()
    # validate first: a campaign.toml mistake is reported before any raw file is read
    notes = [
        note
        for found in registry.call_hook(
            "hydrofw_campaign_validate", reraise=(HydrofwError,), campaign_dir=root
        )
        for note in (found or [])
    ]
    st = open_store(store_dir)
    datasets, skipped = discover(raw, boundary=root)
    if ready is not None:
        checked = [(d, ready(d.path)) for d in datasets]
        skipped += [(d.path, f"not ready: {why}") for d, (ok, why) in checked if not ok]
        datasets = [d for d, (ok, _) in checked if ok]
    # incremental: datasets unchanged since an earlier ingest into this store are not read again
    index = IngestIndex(st)
    todo, reused = index.split(datasets) if incremental else (datasets, [])
    added, failed = ingest(todo, st, progress=progress, executor=executor, index=index)
    for ds in reused:  # their tables got 0 new rows, as when they are read again
        table = index.table_of(ds)
        if table is not None:
            added.setdefault(table, 0)
    summary: dict[str, Any] = {
        "campaign": str(root),
        "store": str(store_dir),
        "report": str(report_dir),
        "datasets": len(datasets),
        "rows_added": added,
        "datasets_read": len(todo),
        "datasets_reused": len(reused),
        "incremental": incremental,
        "skipped": [(str(p), why) for p, why in skipped],
        "failed": [(str(p), why) for p, why in failed],
        "notes": notes,
    }
    # Derived tables belong to this recorded run; they become the store's default view only
    # when the campaign plugins finish (one atomic switch), older runs stay readable by id.
    with st.run(**campaign_record(root, executor=executor)) as store_run:
        summary["run_id"] = store_run.id
        store_run.note(
            ingest={k: summary[k] for k in ("datasets", "rows_added")}
            | {"skipped": len(skipped), "failed": len(failed)},
            datasets_read=sorted(str(d.path) for d in todo),
            datasets_reused=len(reused),
            incremental=incremental,
        )
        registry.call_hook(
            "hydrofw_campaign_ingested",
            reraise=(HydrofwError,),
            store=store_run,
            campaign_dir=root,
            report_dir=report_dir,
            summary=summary,
        )
        store_run.note(results=summary.get("results", {}), notes=summary.get("notes", []))
    # every plugin that failed to load, or failed when called during this run (named with the
    # hook): the CLI lists them and exits non-zero
    summary["plugin_failures"] = registry.problems()
    return summary
