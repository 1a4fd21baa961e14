"""The ``hydrofw`` command line. Exit codes: 0 success, 1 data error, 2 bad usage."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import HydrofwError

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


def _parse_option(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def _cmd_plugins(args: argparse.Namespace) -> int:
    from .registry import get_registry

    registry = get_registry()
    registry.probe()  # a plugin whose per-record hook fails is named here, not only at read time
    plugins = registry.describe()
    if args.json:
        print(json.dumps(plugins, indent=2))
        return EXIT_OK
    for p in plugins:
        status = "ok" if p["status"] == "ok" else f"{p['status'].upper()}: {p['error']}"
        print(f"{p['name']} {p['version'] or '?'} ({p['distribution'] or '-'}) [{status}]")
        for kind in ("readers", "processors", "exporters"):
            if p[kind]:
                print(f"  {kind}: {', '.join(p[kind])}")
        if p["conflicts"]:
            print(f"  CONFLICTS (unusable names): {', '.join(p['conflicts'])}")
    return EXIT_OK


def _cmd_read(args: argparse.Namespace) -> int:
    from .api import export, read
    from .builtin import exporter_for_path

    options = dict(args.option or [])
    table = read(args.path, format=args.format, **options)
    exporter = args.exporter or exporter_for_path(args.to, strict=True)
    export(exporter, table, args.to)
    print(f"{args.path}: {table.num_rows} rows -> {args.to}", file=sys.stderr)
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import run

    summary = run(
        args.campaign,
        store=args.store,
        report=args.report,
        executor=args.executor,
        incremental=not args.full,
    )
    for path, why in summary["failed"]:
        print(f"hydrofw: failed: {path}: {why}", file=sys.stderr)
    for failure in summary.get("plugin_failures", []):
        print(
            f"hydrofw: plugin {failure['plugin']!r} {failure['status']} and skipped: "
            f"{' '.join(failure['error'].split())}",
            file=sys.stderr,
        )
    if _verbosity(args) >= 0:
        for note in summary.get("notes", []):
            print(f"hydrofw: note: {note}", file=sys.stderr)
    if _verbosity(args) > 0:
        for path, why in summary["skipped"]:
            print(f"hydrofw: skipped: {path}: {why}", file=sys.stderr)
        for path, program in summary.get("unanalysed", []):
            print(f"hydrofw: not analysed: {path}: pulse program {program}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
        if summary.get("plugin_failures"):
            return EXIT_DATA
        return EXIT_DATA if summary["failed"] and args.strict else EXIT_OK
    if _verbosity(args) >= 0:
        added = ", ".join(f"{k}: {v}" for k, v in sorted(summary["rows_added"].items())) or "none"
        print(f"datasets: {summary['datasets']}  rows added: {added}")
        if "cells_analysed" in summary:
            print(cells_line(summary))
        for key in ("results", "report_files") if _verbosity(args) > 0 else ("results",):
            if key in summary:
                print(f"{key}: {summary[key]}")
        print(f"store: {summary['store']}  report: {summary['report']}")
    print(summary_line(summary))
    if summary.get("plugin_failures"):
        return EXIT_DATA
    return EXIT_DATA if summary["failed"] and args.strict else EXIT_OK


def cells_line(summary: dict[str, Any]) -> str:
    """Which cells a campaign plugin analysed and which it took unchanged from the last run."""
    analysed, reused = summary.get("cells_analysed", []), summary.get("cells_reused", [])
    return (
        f"cells analysed: {len(analysed)} ({', '.join(analysed) or 'none'})  "
        f"reused from the previous run: {len(reused)} ({', '.join(reused) or 'none'})"
    )


def summary_line(summary: dict[str, Any]) -> str:
    """One line naming every skipped and failed file and every ingested experiment that no
    analysis rule took (with its pulse program)."""

    def names(items: Any) -> str:
        return ", ".join(Path(str(p)).name for p, _ in items) or "none"

    unanalysed = summary.get("unanalysed", [])
    other = ", ".join(f"{Path(str(p)).name} ({prog})" for p, prog in unanalysed) or "none"
    return (
        f"hydrofw: {summary.get('datasets', 0)} datasets; failed: {names(summary['failed'])}; "
        f"skipped: {names(summary['skipped'])}; not analysed: {other}"
    )


def _verbosity(args: argparse.Namespace) -> int:
    """-1 with -q, 0 by default, the number of -v otherwise."""
    return -1 if getattr(args, "quiet", False) else int(getattr(args, "verbose", 0) or 0)


def _campaign_of(store: Any, given: str | None) -> Path:
    """The campaign folder of a store: given, or the one recorded in its ``campaign`` table or
    latest run, or the store's parent folder when that holds a campaign.toml."""
    if given:
        return Path(given)
    candidates: list[str] = []
    if "campaign" in store.tables():
        candidates += [r for r in store.table("campaign").column("root").to_pylist() if r]
    latest = getattr(store, "latest_run", None)
    if latest is not None and latest() is not None:
        record = store.run_record(latest())
        if record.get("campaign_dir"):
            candidates.append(record["campaign_dir"])
    candidates.append(str(Path(store.root).resolve().parent))
    for c in candidates:
        if (Path(c) / "campaign.toml").is_file():
            return Path(c)
    raise HydrofwError(
        f"{store.root}: cannot find the campaign folder (campaign.toml) of this store; "
        "name it with --campaign"
    )


def _cmd_report(args: argparse.Namespace) -> int:
    from .registry import get_registry
    from .store import open_store

    store = open_store(args.store, create=False)
    campaign = _campaign_of(store, args.campaign)
    report_dir = Path(args.report) if args.report else campaign / "report"
    files = get_registry().pm.hook.hydrofw_campaign_report(
        store=store, campaign_dir=campaign, report_dir=report_dir
    )
    if files is None:
        raise HydrofwError("no installed plugin writes campaign reports (hydrofw-campaign)")
    if _verbosity(args) >= 0:
        print(f"report: {report_dir / 'index.html'} ({len(files)} files)")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from .api import export
    from .builtin import exporter_for_path
    from .store import open_store

    store = open_store(args.store, create=False)
    table = store.table(args.table, run=args.run)
    exporter = args.exporter or exporter_for_path(args.to, strict=True)
    export(exporter, table, args.to)
    print(f"{args.table}: {table.num_rows} rows -> {_written(exporter, table, args.to)}",
          file=sys.stderr)
    return EXIT_OK


def _written(exporter: str, table: Any, to: str) -> str:
    """The files an export wrote, for the message (CSV arrays file, one CSDM file per row)."""
    if exporter == "csv":
        from .csvexport import arrays_path, numeric_arrays

        return f"{to}" + (f" and {arrays_path(to)}" if numeric_arrays(table.schema) else "")
    if exporter == "csdm" and table.num_rows > 1:
        from .csdm import csdm_paths

        paths = csdm_paths(to, table.num_rows)
        return f"{paths[0]} ... {paths[-1].name} ({len(paths)} files)"
    return str(to)


def _cmd_watch(args: argparse.Namespace) -> int:
    from .watch import watch

    runs = watch(
        args.campaign,
        store=args.store,
        report=args.report,
        executor=args.executor,
        debounce_ms=args.debounce_ms,
        settle_s=args.settle_s,
    )
    print(f"hydrofw watch: {runs} run(s)", file=sys.stderr)
    return EXIT_OK


def _cmd_runs(args: argparse.Namespace) -> int:
    from .store import open_store

    runs = open_store(args.store, create=False).runs()
    if args.json:
        print(json.dumps(runs, indent=2, default=str))
        return EXIT_OK
    for r in runs:
        tables = ", ".join(f"{k}: {v}" for k, v in r.get("tables", {}).items()) or "-"
        digest = (r.get("campaign_toml_sha256") or "-")[:12]
        mark = "*" if r["latest"] else " "
        print(f"{mark} {r['run_id']}  {r['status']:<9}  campaign.toml {digest}  {tables}")
    return EXIT_OK


def _cmd_example(args: argparse.Namespace) -> int:
    from .registry import get_registry

    found = get_registry().call_hook(
        "hydrofw_example_campaign",
        firstresult=True,
        reraise=(HydrofwError,),
        directory=Path(args.directory),
        seed=args.seed,
    )
    where = found[0] if found else None
    if where is None:
        raise HydrofwError("no installed plugin provides the example campaign (hydrofw-campaign)")
    print(f"example campaign written to {where}")
    return EXIT_OK


def _add_verbosity(parser: argparse.ArgumentParser, default: Any) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q", "--quiet", action="store_true", default=default or False,
        help="no progress bars or notes; errors and the one-line summary only",
    )
    group.add_argument(
        "-v", "--verbose", action="count", default=default or 0,
        help="progress bars even when not on a terminal; every skipped file and unanalysed "
        "experiment; -vv: debug log",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hydrofw", description="High-pressure hydride NMR and transport data to Arrow tables."
    )
    parser.add_argument("--version", action="version", version=f"hydrofw {__version__}")
    _add_verbosity(parser, None)
    v = argparse.ArgumentParser(add_help=False)  # -q/-v also after the subcommand
    _add_verbosity(v, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plugins", help="list plugins and what they provide")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_plugins)

    p = sub.add_parser("read", help="read one raw dataset into a table file", parents=[v])
    p.add_argument("path", help="file, experiment folder or zip")
    p.add_argument("--format", help="reader name (default: sniffed)")
    p.add_argument("--to", required=True, help="output file (.parquet, .arrow)")
    p.add_argument("--exporter", help="exporter name (default: from the extension)")
    p.add_argument(
        "-o", "--option", action="append", type=_parse_option, help="reader option KEY=VALUE"
    )
    p.set_defaults(func=_cmd_read)

    p = sub.add_parser("run", help="the main job: ingest, process, export, report", parents=[v])
    p.add_argument("campaign", help="campaign folder (with campaign.toml and raw/)")
    p.add_argument("--store", help="store folder (default: CAMPAIGN/store)")
    p.add_argument("--report", help="report folder (default: CAMPAIGN/report)")
    p.add_argument("--executor", choices=["local", "dask"], default="local")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 when any dataset failed")
    p.add_argument(
        "--full",
        action="store_true",
        help="read every dataset and analyse every cell again (default: only what changed)",
    )
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("export", help="export a stored table", parents=[v])
    p.add_argument("store", help="store folder")
    p.add_argument("--table", required=True, help="table name (spectrum, tc, kinetics, ...)")
    p.add_argument("--to", required=True, help="output file (.parquet, .arrow, .csv)")
    p.add_argument("--exporter", help="exporter name (default: from the extension)")
    p.add_argument("--run", help="run id (default: the latest run; see `hydrofw runs`)")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("watch", help="run the campaign again whenever complete new data arrive")
    p.add_argument("campaign", help="campaign folder (with campaign.toml and raw/)")
    p.add_argument("--store", help="store folder (default: CAMPAIGN/store)")
    p.add_argument("--report", help="report folder (default: CAMPAIGN/report)")
    p.add_argument("--executor", choices=["local", "dask"], default="local")
    p.add_argument("--debounce-ms", type=int, default=1600, help="quiet time that ends a burst")
    p.add_argument("--settle-s", type=float, default=2.0,
                   help="a dataset is ingested once unchanged this long (and complete)")
    p.set_defaults(func=_cmd_watch)

    p = sub.add_parser("runs", help="list the recorded runs of a store (* = the default view)")
    p.add_argument("store", help="store folder")
    p.add_argument("--json", action="store_true", help="the full run records as JSON")
    p.set_defaults(func=_cmd_runs)

    p = sub.add_parser(
        "report", help="rebuild a campaign's report from its store (no re-analysis)", parents=[v]
    )
    p.add_argument("store", help="store folder")
    p.add_argument("--campaign", help="campaign folder (default: recorded in the store)")
    p.add_argument("--report", help="report folder (default: CAMPAIGN/report)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("example", help="write the bundled example campaign")
    p.add_argument("directory", help="where to write it")
    p.add_argument("--seed", type=int, default=20240827, help="random seed")
    p.set_defaults(func=_cmd_example)
    return parser


def _apply_verbosity(level: int) -> None:
    """Progress bars off with -q, forced on with -v; the ``hydrofw`` logger's level."""
    import logging

    from .progress import set_progress

    set_progress(False if level < 0 else (True if level > 0 else None))
    logger = logging.getLogger("hydrofw")
    logger.setLevel(logging.ERROR if level < 0 else logging.DEBUG if level > 1 else logging.INFO
                    if level > 0 else logging.WARNING)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("hydrofw: %(levelname)s: %(message)s"))
        logger.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _apply_verbosity(_verbosity(args))
    try:
        return int(args.func(args))
    except HydrofwError as exc:
        if os.environ.get("HYDROFW_DEBUG"):
            raise  # full traceback, including the reader error a FormatError wraps
        message = " ".join(str(exc).split())
        print(f"hydrofw: error: {message}", file=sys.stderr)
        return EXIT_DATA
    except KeyboardInterrupt:
        print("hydrofw: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
