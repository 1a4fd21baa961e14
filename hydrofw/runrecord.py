"""What a recorded run of ``hydrofw run`` stores about itself (``<store>/runs/<id>/run.json``)."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["campaign_record"]


def campaign_record(campaign_dir: Path, *, executor: str = "local") -> dict[str, Any]:
    """The campaign.toml hash and content, the executor and every plugin's version.

    A campaign.toml that does not parse is recorded with its hash and the parse error (the
    campaign plugin reports it properly); none at all gives ``campaign_toml_sha256: null``.
    """
    from .registry import get_registry

    toml = campaign_dir / "campaign.toml"
    record: dict[str, Any] = {
        "campaign_dir": str(campaign_dir.resolve()),
        "executor": executor,
        "campaign_toml_sha256": None,
    }
    if toml.is_file():
        data = toml.read_bytes()
        record["campaign_toml_sha256"] = hashlib.sha256(data).hexdigest()
        try:
            record["campaign_toml"] = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            record["campaign_toml_error"] = str(exc)
    record["plugins"] = [
        {k: p.get(k) for k in ("name", "version", "distribution", "status")}
        for p in get_registry().describe()
    ]
    return record
