"""region_metrics: per micro-region and event-time window, the subscribers present and their G3 coverage,
G3-capable handsets, G3 opportunities, G3 data share and product distribution: where to market G3
(docs/architecture.md)."""

from jobs import located_contributions, on_time_events
from touchpoint.config import Settings
from touchpoint.flink.pipeline import Pipeline

DESCRIPTION = "G3 metrics per micro-region and window over signaling and xDRs -> region-metrics"
INPUTS = ("signaling", "xdr")
OUTPUTS = ("region_metrics",)
REFERENCE = ("cells", "regions", "handsets", "profiles")


def parameters(settings: Settings) -> dict[str, object]:
    """Values for the ${placeholders} of sql/region_metrics/."""
    r = settings.region_metrics
    return {"window_minutes": r.window_minutes, "min_subscribers": r.min_subscribers}


def build(p: Pipeline) -> None:
    on_time_events(p, REFERENCE)
    located_contributions(p)
    p.create_sink("tables/region_metrics.sql", "region_metrics")
    params = parameters(p.settings)
    p.execute("region_metrics/located.sql")
    p.execute("region_metrics/presence.sql", **params)
    p.execute("region_metrics/subscribers.sql")
    p.execute("region_metrics/windows.sql", **params)
    p.execute("region_metrics/emit.sql", **params)
