"""hydrofw-campaign: campaign descriptions, time series, kinetics and the bundled example.

Public API::

    from hydrofw_campaign import load_campaign, write_example_campaign, fit_kinetics
    config = load_campaign("campaign/")          # campaign.toml -> CampaignConfig
    write_example_campaign("example/", seed=1)   # the `hydrofw example` campaign
    hydrofw.process("campaign.kinetics", timeseries_table, window_end_days=30)
"""

from __future__ import annotations

from .config import CampaignConfig, CellConfig, check_pipeline, load_campaign, parse_campaign
from .example import write_example_campaign
from .kinetics import KineticsParams, fit_exponential, fit_kinetics, fit_linear
from .timeseries import TimeSeriesPoint, days_since_synthesis

__version__ = "0.1.0"

__all__ = [
    "CampaignConfig",
    "CellConfig",
    "KineticsParams",
    "TimeSeriesPoint",
    "check_pipeline",
    "days_since_synthesis",
    "fit_exponential",
    "fit_kinetics",
    "fit_linear",
    "load_campaign",
    "parse_campaign",
    "write_example_campaign",
    "__version__",
]
