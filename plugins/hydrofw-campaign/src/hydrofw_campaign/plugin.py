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


def _no_description(campaign_dir: Path) -> str:
    return (
        f"{campaign_dir}: no campaign.toml; raw data ingested only, no campaign analysis run "
        "(describe the cells in campaign.toml: docs/campaign.md)"
    )


@hookimpl
def hydrofw_campaign_validate(campaign_dir: Path) -> list[str]:
    """campaign.toml and every step parameter, checked before any raw file is read."""
    from .config import load_campaign
    from .pipeline import validate_campaign

    if not (campaign_dir / "campaign.toml").is_file():
        return [_no_description(campaign_dir)]
    return validate_campaign(load_campaign(campaign_dir))


@hookimpl
def hydrofw_campaign_ingested(
    store: Any, campaign_dir: Path, report_dir: Path, summary: dict[str, Any]
) -> None:
    """Run the campaign pipeline on the ingested store and write the report."""
    from .pipeline import count_rows, run_pipeline

    notes = summary.setdefault("notes", [])
    if not (campaign_dir / "campaign.toml").is_file():
        if _no_description(campaign_dir) not in notes:
            notes.append(_no_description(campaign_dir))
        return
    results = run_pipeline(store, campaign_dir, incremental=summary.get("incremental", True))
    summary["results"] = count_rows(results.tables)
    summary["cells_analysed"] = results.cells_analysed
    summary["cells_reused"] = results.cells_reused
    summary["step_failures"] = results.failures
    notes.extend(n for n in results.notes if n not in notes)
    from .reportjob import campaign_report

    run = dict(getattr(store, "record", None) or {})
    if summary.get("run_id"):
        run["id"] = summary["run_id"]
    files, unanalysed = campaign_report(
        store,
        campaign_dir,
        report_dir,
        tables=results.tables,
        notes=[*notes, *(str(f) for f in summary.get("step_failures") or ())],
        skipped=summary.get("skipped", ()),
        failed=summary.get("failed", ()),
        run=run or None,
        unanalysed=results.unanalysed,
    )
    summary["unanalysed"] = unanalysed
    summary["report_files"] = [p.name for p in files]


@hookimpl
def hydrofw_example_campaign(directory: Path, seed: int) -> Path:
    from .example import write_example_campaign

    return write_example_campaign(directory, seed=seed)


@hookimpl
def hydrofw_campaign_report(store: Any, campaign_dir: Path, report_dir: Path) -> list[Path] | None:
    """Rebuild the report of a campaign from its store, without re-analysis."""
    from .reportjob import campaign_report

    if not (campaign_dir / "campaign.toml").is_file():
        return None
    files, _ = campaign_report(store, campaign_dir, report_dir)
    return files
