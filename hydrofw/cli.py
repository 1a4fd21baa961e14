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

    plugins = get_registry().describe()
    if args.json:
        print(json.dumps(plugins, indent=2))
        return EXIT_OK
    for p in plugins:
        status = "ok" if p["status"] == "ok" else f"BROKEN: {p['error']}"
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
    exporter = args.exporter or exporter_for_path(args.to) or "parquet"
    export(exporter, table, args.to)
    print(f"{args.path}: {table.num_rows} rows -> {args.to}", file=sys.stderr)
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import run

    summary = run(args.campaign, store=args.store, report=args.report, executor=args.executor)
    for path, why in summary["failed"]:
        print(f"hydrofw: failed: {path}: {why}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        added = ", ".join(f"{k}: {v}" for k, v in sorted(summary["rows_added"].items())) or "none"
        print(f"datasets: {summary['datasets']}  rows added: {added}")
        print(f"skipped: {len(summary['skipped'])}  failed: {len(summary['failed'])}")
        for key in ("results", "report_files"):
            if key in summary:
                print(f"{key}: {summary[key]}")
        print(f"store: {summary['store']}  report: {summary['report']}")
    return EXIT_DATA if summary["failed"] and args.strict else EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from .api import export
    from .builtin import exporter_for_path
    from .store import open_store

    store = open_store(args.store, create=False)
    table = store.table(args.table)
    exporter = args.exporter or exporter_for_path(args.to) or "parquet"
    export(exporter, table, args.to)
    print(f"{args.table}: {table.num_rows} rows -> {args.to}", file=sys.stderr)
    return EXIT_OK


def _cmd_example(args: argparse.Namespace) -> int:
    from .registry import get_registry

    where = get_registry().pm.hook.hydrofw_example_campaign(
        directory=Path(args.directory), seed=args.seed
    )
    if where is None:
        raise HydrofwError("no installed plugin provides the example campaign (hydrofw-campaign)")
    print(f"example campaign written to {where}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hydrofw", description="High-pressure hydride NMR and transport data to Arrow tables."
    )
    parser.add_argument("--version", action="version", version=f"hydrofw {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plugins", help="list plugins and what they provide")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_plugins)

    p = sub.add_parser("read", help="read one raw dataset into a table file")
    p.add_argument("path", help="file, experiment folder or zip")
    p.add_argument("--format", help="reader name (default: sniffed)")
    p.add_argument("--to", required=True, help="output file (.parquet, .arrow)")
    p.add_argument("--exporter", help="exporter name (default: from the extension)")
    p.add_argument(
        "-o", "--option", action="append", type=_parse_option, help="reader option KEY=VALUE"
    )
    p.set_defaults(func=_cmd_read)

    p = sub.add_parser("run", help="the main job: ingest, process, export, report")
    p.add_argument("campaign", help="campaign folder (with campaign.toml and raw/)")
    p.add_argument("--store", help="store folder (default: CAMPAIGN/store)")
    p.add_argument("--report", help="report folder (default: CAMPAIGN/report)")
    p.add_argument("--executor", choices=["local", "dask"], default="local")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 when any dataset failed")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("export", help="export a stored table")
    p.add_argument("store", help="store folder")
    p.add_argument("--table", required=True, help="table name (spectrum, tc, kinetics, ...)")
    p.add_argument("--to", required=True, help="output file (.parquet, .arrow, .csv)")
    p.add_argument("--exporter", help="exporter name (default: from the extension)")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("example", help="write the bundled example campaign")
    p.add_argument("directory", help="where to write it")
    p.add_argument("--seed", type=int, default=20240827, help="random seed")
    p.set_defaults(func=_cmd_example)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
