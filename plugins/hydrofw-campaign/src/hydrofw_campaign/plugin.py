"""Entry point module of hydrofw_campaign (group ``hydrofw``): the kinetics processor and the
bundled example campaign."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydrofw import hookimpl

from .kinetics import register_kinetics


@hookimpl
def hydrofw_register_processors(register: Callable[[Any], None]) -> None:
    register_kinetics(register)


@hookimpl
def hydrofw_campaign_ingested(
    store: Any, campaign_dir: Path, report_dir: Path, summary: dict[str, Any]
) -> None:
    """Run the campaign pipeline on the ingested store and write the report."""
    from .pipeline import count_rows, run_pipeline, write_campaign_report

    if not (campaign_dir / "campaign.toml").is_file():
        summary.setdefault("notes", []).append(
            f"{campaign_dir}: no campaign.toml; raw data ingested, no campaign analysis run"
        )
        return
    results = run_pipeline(store, campaign_dir)
    summary["results"] = count_rows(results.tables)
    summary.setdefault("notes", []).extend(results.notes)
    files = write_campaign_report(results, campaign_dir, report_dir)
    summary["report_files"] = [p.name for p in files]


@hookimpl
def hydrofw_example_campaign(directory: Path, seed: int) -> Path:
    from .example import write_example_campaign

    return write_example_campaign(directory, seed=seed)
