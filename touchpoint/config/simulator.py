"""Settings of the synthetic city (`touchpoint simulate`): its size and density, what it plants, its defects,
how it keys what it produces, and the simulated customers' response to offers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from touchpoint.config.base import Section, TimeZone

#: How a producer keys raw lines (simulator.keying): the raw lines of a network come keyed in any of these ways,
#: and the pipeline is exact for each (docs/operations.md, partitions and event time).
KEYINGS = {
    "none": "no key: librdkafka spreads the lines over the partitions, a batch at a time (a probe exporter that does "
    "not know the subscriber)",
    "msisdn": "keyed by msisdn, placed by librdkafka's default partitioner (CRC32: the C, C++, Python, Go and .NET "
    "clients)",
    "msisdn_murmur2": "keyed by msisdn, placed by murmur2 (the Java client's and Flink's partitioner)",
    "probe": "keyed by the probe that saw the event (its location area; an order by its order id)",
}
Keying = Literal[tuple(KEYINGS)]


class Simulator(Section):
    """The synthetic city and its ground truth (README, "The synthetic city"): the same seed and settings give the
    same city, byte for byte."""

    start: datetime = datetime.fromisoformat("2026-11-02T00:00:00+08:00")
    """When the simulated time begins (with a UTC offset)."""
    keying: Keying = "none"
    """How ``simulate --kafka`` (and the demo) key the raw lines they produce: none, msisdn (librdkafka's CRC32),
    msisdn_murmur2 (the Java client's partitioner) or probe (the probe's location area)."""
    timezone: TimeZone = "Asia/Shanghai"
    """The subscribers' local time: their days, nights and busy hour."""
    center_lat: float = 32.0603
    """Latitude of the city's centre; its cells are laid out on a grid around it."""
    center_lon: float = 118.7969
    """Longitude of the city's centre."""
    events_per_subscriber_hour: float = Field(60.0, ge=0)
    """Signaling + xDR events per subscriber-hour, averaged over the day (a network makes 20-110; the daily curve
    goes from about a quarter at night to twice in the busy hour). A subscriber's own activity makes ~3; ordinary
    traffic on the subscriber's current cell (service requests, data sessions with their xDR, tracking-area
    updates: touchpoint/harness/simulator/traffic.py) makes up the rest. 3 or less: none (the sparse city of early
    benches)."""
    plant_fraction: float = Field(0.02, ge=0, le=1)
    """Share of subscribers that get each planted situation (at least one per kind when it fits)."""
    duplicate_rate: float = Field(0.005, ge=0, le=0.5)
    """Chance that a signaling or xDR record is sent twice (the same event id); a duplicate counts once."""
    malformed_rate: float = Field(0.002, ge=0, le=0.5)
    """Chance that a signaling or xDR record is followed by an extra, malformed line (bad JSON, a missing field,
    an unknown event type, a ts out of range, an invalid value): ingest sends each to the dead-letter topic with
    its reason."""
    max_delay_ms: int = Field(30_000, ge=0)
    """Arrival delay bound; must not exceed event_time.max_out_of_orderness_ms."""
    chunk_subscribers: int = Field(20_000, ge=1)
    """Subscribers generated and sorted in memory at once (bounds memory for 1 M subscribers)."""
    roamer_fraction: float = Field(0.01, ge=0, le=1)
    """Inbound roamers (foreign or other-province numbers), as a share of subscribers."""
    delivery_rate: float = Field(0.95, ge=0, le=1)
    """The simulated outbound systems and customers (touchpoint/harness/simulator/outbound.py), for the campaign funnel
    and effect tracking: the share of treatment leads delivered."""
    control_conversion_rate: float = Field(0.03, ge=0, le=1)
    """The base rate: a customer buys the offered product anyway (control leads, undelivered leads)."""
    uplift: float = Field(0.09, ge=0, le=1)
    """What a delivered offer adds to the base rate, unless ``campaign_uplift`` names the campaign."""
    campaign_uplift: dict[str, float] = {}
    """A campaign's own uplift (campaign id -> what its delivered offer adds to the base rate), instead of
    ``uplift``. Below zero: an offer that puts customers off (what the guardrail pauses)."""
    variant_uplift: dict[str, dict[str, float]] = {}
    """An offer variant's own uplift (campaign id -> variant id -> what its delivered offer adds to the base rate),
    instead of its campaign's (docs/variants.md)."""
    answer_hours: float = Field(24.0, gt=0)
    """A customer who buys does so a minute to this many hours after the offer's delivery (uniformly)."""
    order_names_lead_rate: float = Field(0.5, ge=0, le=1)
    """Share of conversions whose order names the lead (a reply to the SMS); BOSS orders name none."""
    trial_fraction: float = Field(0.03, ge=0, le=1)
    """Share of subscribers who start a free trial of the first shipped journey's trial product (docs/journeys.md),
    planted to convert, not to use it, to use it little, to opt out, or to use it and let it lapse."""
    journey_hours: float = Field(6.0, gt=0)
    """A simulated city lasts hours, a trial weeks: the city's journeys/ holds the shipped journeys with every
    duration scaled so that a trial lasts this long."""
