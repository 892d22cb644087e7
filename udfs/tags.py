"""The tag library: short labels derived from a subscriber's profile, handset and 48-hour behaviour.

Campaign audiences use them as ``{field: tags, op: contains, value: commuter}``. Thresholds are settings
(``tags.*``); docs/decisions.md explains each tag.
"""

from __future__ import annotations

from typing import Any

#: tag -> what it means (the docs table is generated from this).
TAGS: dict[str, str] = {
    "heavy_data_user": "data (up + down) in the last 48 h >= tags.heavy_data_mb_48h MB",
    "frequent_caller": "calls (MO + MT) in the last 48 h >= tags.frequent_caller_calls_48h",
    "hotline_caller": "hotline/114 dials in the last 48 h >= tags.hotline_caller_dials_48h",
    "roamer": "hours seen roaming out in the last 48 h >= tags.roamer_hours_48h",
    "commuter": "in the last 24 h, seen in a home-kind region and in a work-kind region",
    "g3_capable_non_g3": "handset is G3-capable but the subscriber holds no g3_* product (the G3 opportunity)",
    "g3_subscriber": "holds a g3_* product",
    "high_value": "ARPU band high or vip",
    "no_data_plan": "profile data quota is 0",
}


def is_g3_subscriber(profile: dict[str, Any] | None) -> bool | None:
    if profile is None:
        return None
    return any(p.startswith("g3_") for p in profile.get("products") or ())


def tags(
    profile: dict[str, Any] | None,
    handset: dict[str, Any] | None,
    totals: dict[str, Any],
    region_kinds_24h: set[str],
    cfg,
) -> list[str]:
    """Tags that hold for a subscriber; ``cfg`` is the ``tags`` settings section."""
    out = []
    if (totals.get("data_mb_48h") or 0) >= cfg.heavy_data_mb_48h:
        out.append("heavy_data_user")
    if (totals.get("calls_48h") or 0) >= cfg.frequent_caller_calls_48h:
        out.append("frequent_caller")
    if (totals.get("hotline_dials_48h") or 0) >= cfg.hotline_caller_dials_48h:
        out.append("hotline_caller")
    if (totals.get("roaming_hours_48h") or 0) >= max(cfg.roamer_hours_48h, 1):
        out.append("roamer")
    if region_kinds_24h & set(cfg.commuter_home_kinds) and region_kinds_24h & set(cfg.commuter_work_kinds):
        out.append("commuter")
    g3_sub = is_g3_subscriber(profile)
    if handset and handset.get("g3_capable") and g3_sub is False:
        out.append("g3_capable_non_g3")
    if g3_sub:
        out.append("g3_subscriber")
    if profile is not None:
        if profile.get("arpu_band") in ("high", "vip"):
            out.append("high_value")
        if profile.get("data_quota_mb") == 0:
            out.append("no_data_plan")
    return out
