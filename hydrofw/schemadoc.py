"""Render the schema reference (``docs/schemas.md``) from the JSON schema files.

Run ``python -m hydrofw.schemadoc docs/schemas.md`` after editing ``schemas/``; a test fails
when the committed page is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .schema import TableSchema, get_schema, schema_dir, schema_names


def _type(t: object) -> str:
    return str(t).replace("<item: ", "<").replace("list<element: ", "list<")


def render_table(schema: TableSchema) -> str:
    lines = [
        f"## `{schema.name}` (version {schema.version})",
        "",
        schema.description,
        "",
        "| field | type | unit | required | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in schema.fields:
        req = "" if f.nullable else "yes"
        desc = f.description.replace("|", "\\|")
        lines.append(f"| `{f.name}` | `{_type(f.type)}` | {f.unit or ''} | {req} | {desc} |")
    if schema.changes:
        lines += ["", "Changes:", ""]
        lines += [f"- v{v}: {text}" for v, text in sorted(schema.changes.items())]
    return "\n".join(lines) + "\n"


def render_markdown() -> str:
    """The whole reference page, one section per bundled table (current versions)."""
    bundled = {p.stem for p in schema_dir().glob("*.json")}
    names = [n for n in schema_names() if n in bundled]
    head = [
        "# Schema reference",
        "",
        "Generated from `schemas/*.json` by `python -m hydrofw.schemadoc docs/schemas.md`; do not",
        "edit by hand. Every table hydrofw writes carries the Parquet/Arrow schema metadata",
        "`hydrofw.schema` (table name) and `hydrofw.schema_version`; units are also in each",
        "field's Arrow metadata (`unit`). Tables: " + ", ".join(f"`{n}`" for n in names) + ".",
        "",
        "",
    ]
    return "\n".join(head) + "\n".join(render_table(get_schema(n)) for n in names)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render_markdown()
    if argv:
        Path(argv[0]).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
