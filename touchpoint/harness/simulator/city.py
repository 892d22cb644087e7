"""The synthetic city: a square grid of cells around the configured centre, micro-regions, a handset catalogue,
msisdn number ranges and the product catalogue. Deterministic from (seed, number of subscribers)."""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass, field
from typing import Any

#: ~300 m between cell centres.
CELL_SPACING_M = 300.0
MAX_CELLS = 25_000
LAC_BLOCK = 8  # LAC = square block of LAC_BLOCK x LAC_BLOCK cells

RATS = ("GSM", "G3", "LTE", "NR")
RAT_WEIGHTS = (25, 25, 40, 10)

REGION_KINDS = ("mall", "campus", "handset_store", "transport", "residential", "office", "scenic")
WATCHED_KINDS = frozenset({"mall", "handset_store", "transport", "campus", "scenic"})
#: Share of regions per kind, and the minimum number of each.
REGION_SHARE = {
    "residential": 30,
    "office": 22,
    "mall": 12,
    "handset_store": 10,
    "campus": 7,
    "transport": 7,
    "scenic": 12,
}
REGION_MIN = {"residential": 4, "office": 3, "mall": 4, "handset_store": 3, "campus": 2, "transport": 2, "scenic": 2}
REGION_SIZE = {  # (min, max) cells
    "residential": (2, 4),
    "office": (1, 3),
    "mall": (1, 3),
    "handset_store": (1, 1),
    "campus": (2, 4),
    "transport": (1, 2),
    "scenic": (2, 4),
}
KIND_LABEL = {
    "mall": "Mall",
    "campus": "Campus",
    "handset_store": "Handset Store",
    "transport": "Station",
    "residential": "Residences",
    "office": "Office Tower",
    "scenic": "Scenic Area",
}
DISTRICTS = (
    "Xinjiekou",
    "Gulou",
    "Hexi",
    "Xianlin",
    "Jiangning",
    "Pukou",
    "Qinhuai",
    "Xuanwu",
    "Jianye",
    "Yuhuatai",
    "Qixia",
    "Liuhe",
    "Zhujiang Road",
    "Hunan Road",
    "Confucius Temple",
    "Olympic Park",
)
#: The first transport regions get these names; the first is where planted trips abroad depart.
TRANSPORT_NAMES = ("Lukou Airport", "Nanjing South Station", "Nanjing Railway Station")

#: (brand, model, tier, g3_capable) — G3 = TD-SCDMA.
HANDSET_MODELS: tuple[tuple[str, str, str, bool], ...] = (
    ("Nokia", "1208", "low", False),
    ("Nokia", "2610", "low", False),
    ("Nokia", "5230", "mid", False),
    ("Nokia", "6120c", "mid", False),
    ("Nokia", "N97", "high", False),
    ("Nokia", "C5-00", "mid", False),
    ("Nokia", "T7-00", "mid", True),
    ("Samsung", "E2652", "low", False),
    ("Samsung", "S5230", "mid", False),
    ("Samsung", "i8910", "high", False),
    ("Samsung", "B7702", "high", True),
    ("Samsung", "i6410", "mid", True),
    ("Motorola", "MT710", "high", True),
    ("Motorola", "A1210", "mid", True),
    ("Motorola", "W230", "low", False),
    ("Motorola", "E8", "mid", False),
    ("Huawei", "T2211", "low", True),
    ("Huawei", "C5600", "low", False),
    ("Huawei", "T8300", "mid", True),
    ("Huawei", "U8800", "mid", False),
    ("ZTE", "U230", "low", True),
    ("ZTE", "U880", "mid", True),
    ("ZTE", "F160", "low", False),
    ("ZTE", "U215", "low", True),
    ("Lenovo", "TD30t", "mid", True),
    ("Lenovo", "O1", "high", True),
    ("Lenovo", "i906", "mid", False),
    ("Lenovo", "P70", "low", False),
    ("Apple", "iPhone 3GS", "high", False),
    ("Apple", "iPhone 4", "high", False),
    ("Apple", "iPhone 4S", "high", False),
    ("Xiaomi", "MI-ONE", "mid", False),
    ("Xiaomi", "MI-2S TD", "high", True),
    ("Xiaomi", "Redmi 1", "low", True),
    ("Coolpad", "8510", "mid", True),
    ("Coolpad", "8710", "low", True),
    ("Coolpad", "5820", "mid", False),
    ("Coolpad", "7260", "low", True),
    ("Samsung", "Galaxy S3", "high", False),
    ("Huawei", "Ascend P1", "high", False),
)
CHINESE_BRANDS = frozenset({"Huawei", "ZTE", "Lenovo", "Xiaomi", "Coolpad"})

#: product_id -> product_kind (orders schema enum)
PRODUCTS: dict[str, str] = {
    "g3_basic": "g3_plan",
    "g3_data_100": "g3_plan",
    "12580": "value_added",
    "music_club": "value_added",
    "mobile_paper": "value_added",
    "fetion": "value_added",
    "data_package_50": "data_package",
    "data_package_100": "data_package",
    "data_package_300": "data_package",
    "g3_handset_bundle": "handset_bundle",
    "music_trial_15d": "trial",
}
DATA_PACKAGES = ("data_package_50", "data_package_100", "data_package_300")
#: The product catalogue (reference/products.csv): product_id -> (name, kind, family). PRODUCTS, which
#: subscribers order on their own, plus the products the example campaigns and journeys offer. A family groups
#: products that answer the same offer (docs/effect.md): any data package converts a data-package lead.
CATALOGUE: dict[str, tuple[str, str, str]] = {
    "g3_basic": ("G3 basic plan", "g3_plan", "g3"),
    "g3_data_100": ("G3 data plan 100", "g3_plan", "g3"),
    "g3_campus": ("G3 campus plan", "g3_plan", "g3"),
    "12580": ("12580 life assistant", "value_added", "12580"),
    "music_club": ("Music Club", "value_added", "music"),
    "music_club_trial": ("Music Club free month", "trial", "music"),
    "music_trial_15d": ("Music 15-day trial", "trial", "music"),
    "mobile_paper": ("Mobile newspaper", "value_added", "news"),
    "fetion": ("Fetion messenger", "value_added", "fetion"),
    "mobile_secretary": ("Mobile secretary", "value_added", "secretary"),
    "missed_call_alert": ("Missed-call alert", "value_added", "secretary"),
    "roaming_day_pass": ("Roaming day pass", "value_added", "roaming"),
    "topup_bonus": ("Top-up bonus", "value_added", "topup"),
    "mall_coupon": ("Partner mall coupon", "value_added", "coupon"),
    "data_package_50": ("Data package 50 MB", "data_package", "data_package"),
    "data_package_100": ("Data package 100 MB", "data_package", "data_package"),
    "data_package_300": ("Data package 300 MB", "data_package", "data_package"),
    "data_plan_2gb": ("Data plan 2 GB", "data_package", "data_package"),
    "g3_handset_bundle": ("G3 handset bundle", "handset_bundle", "g3_handset"),
}

#: 3-digit mobile prefixes used to build 7-digit number ranges.
MOBILE_P3 = ("139", "138", "137", "136", "135", "134", "159", "158", "157", "152", "151", "150", "188", "187", "182")
#: Other provinces: (code, first 4-digit block). Home province blocks start at 2500.
OTHER_PROVINCES = (("BJ", 1000), ("SH", 2100), ("GD", 2000), ("ZJ", 5710))
HOME_BLOCK = 2500


@dataclass
class Region:
    region_id: str
    name: str
    kind: str
    watched: bool
    cells: list[int]  # cell indexes
    lat: float = 0.0
    lon: float = 0.0


@dataclass
class City:
    side: int
    cell_id: list[int]
    lac: list[int]
    lat: list[float]
    lon: list[float]
    rat: list[str]
    region_of: list[int]  # region index or -1
    regions: list[Region]
    handsets: list[dict[str, Any]]
    number_ranges: list[tuple[str, str]]
    home_prefixes: list[str]
    other_prefixes: list[tuple[str, str]]  # (prefix, province)
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> region indexes

    @property
    def n_cells(self) -> int:
        return len(self.cell_id)

    def rc(self, c: int) -> tuple[int, int]:
        return divmod(c, self.side)

    def neighbours(self, c: int) -> list[int]:
        r, k = divmod(c, self.side)
        out = []
        for dr, dk in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            rr, kk = r + dr, k + dk
            if 0 <= rr < self.side and 0 <= kk < self.side:
                out.append(rr * self.side + kk)
        return out

    # ---- reference rows
    def cell_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "cell_id": self.cell_id[i],
                "lac": self.lac[i],
                "lat": self.lat[i],
                "lon": self.lon[i],
                "rat": self.rat[i],
                "region_id": self.regions[self.region_of[i]].region_id if self.region_of[i] >= 0 else None,
            }
            for i in range(self.n_cells)
        ]

    def region_rows(self) -> list[dict[str, Any]]:
        return [
            {"region_id": r.region_id, "name": r.name, "kind": r.kind, "watched": r.watched, "lat": r.lat, "lon": r.lon}
            for r in self.regions
        ]

    def handset_rows(self) -> list[dict[str, Any]]:
        return list(self.handsets)

    @staticmethod
    def product_rows() -> list[dict[str, Any]]:
        return [{"product_id": p, "name": n, "kind": k, "family": f} for p, (n, k, f) in CATALOGUE.items()]

    def number_range_rows(self) -> list[dict[str, Any]]:
        return [{"prefix": p, "province": v} for p, v in self.number_ranges]


def _tac(i: int, brand: str) -> str:
    head = "86" if brand in CHINESE_BRANDS else "35"
    return f"{head}{(i * 104_729 + 12_345) % 1_000_000:06d}"


def handset_catalogue() -> list[dict[str, Any]]:
    out = []
    for i, (brand, model, tier, g3) in enumerate(HANDSET_MODELS):
        out.append({"tac": _tac(i, brand), "brand": brand, "model": model, "tier": tier, "g3_capable": g3})
    assert len({h["tac"] for h in out}) == len(out)
    return out


def n_cells_for(subscribers: int) -> int:
    return min(MAX_CELLS, max(100, subscribers // 40))


def build_city(
    seed: int, subscribers: int, center_lat: float, center_lon: float, home_province: str, roamers: int = 0
) -> City:
    # One random stream for the whole city, drawn in a fixed order (the cells' RATs, then the regions): the same
    # seed gives the same city, byte for byte.
    rng = random.Random(f"{seed}/city")
    side = math.ceil(math.sqrt(n_cells_for(subscribers)))
    grid = _cell_grid(rng, side, center_lat, center_lon)
    _place_regions(rng, grid, _region_kinds(side * side))
    home_prefixes = _home_prefixes(subscribers)
    other = _other_prefixes(roamers, home_province)
    number_ranges = sorted([(p, home_province) for p in home_prefixes] + other)
    assert len({p for p, _ in number_ranges}) == len(number_ranges), "number range prefixes collide"
    return dataclasses.replace(
        grid,
        handsets=handset_catalogue(),
        number_ranges=number_ranges,
        home_prefixes=home_prefixes,
        other_prefixes=other,
        by_kind=_regions_by_kind(grid.regions),
    )


def _cell_grid(rng: random.Random, side: int, center_lat: float, center_lon: float) -> City:
    """A city of ``side`` x ``side`` cells around the centre, each with its LAC block and a random RAT; no regions,
    handsets or numbers yet."""
    n = side * side
    dlat = CELL_SPACING_M / 111_320.0
    dlon = CELL_SPACING_M / (111_320.0 * math.cos(math.radians(center_lat)))
    blocks_per_row = math.ceil(side / LAC_BLOCK)
    cell_id, lac, lat, lon, rat = [], [], [], [], []
    for i in range(n):
        r, k = divmod(i, side)
        la = 20_000 + (r // LAC_BLOCK) * blocks_per_row + (k // LAC_BLOCK)
        cell_id.append(la * 1000 + (r % LAC_BLOCK) * LAC_BLOCK + (k % LAC_BLOCK))
        lac.append(la)
        lat.append(round(center_lat + (r - (side - 1) / 2) * dlat, 6))
        lon.append(round(center_lon + (k - (side - 1) / 2) * dlon, 6))
        rat.append(rng.choices(RATS, RAT_WEIGHTS)[0])
    return City(side, cell_id, lac, lat, lon, rat, [-1] * n, [], [], [], [], [])


def _region_kinds(n_cells: int) -> list[str]:
    """The kind of each region to place, in placement order: about 16 % of the cells start a region, shared out
    by REGION_SHARE with at least REGION_MIN of each kind."""
    n_regions = max(sum(REGION_MIN.values()), round(n_cells * 0.16))
    total_share = sum(REGION_SHARE.values())
    counts = {k: max(REGION_MIN[k], round(n_regions * REGION_SHARE[k] / total_share)) for k in REGION_SHARE}
    kinds: list[str] = []
    # interleave kinds so that a cap on cells never starves one kind
    while any(counts.values()):
        for k in REGION_SHARE:
            if counts[k]:
                kinds.append(k)
                counts[k] -= 1
    return kinds


def _place_regions(rng: random.Random, city: City, kinds: list[str]) -> None:
    """Micro-regions of 1-4 adjacent cells each, no overlap, grown from free cells in random order into
    ``city.regions`` and ``city.region_of``, until the kinds run out or regions cover 60 % of the cells."""
    region_of, n = city.region_of, city.n_cells
    seq: dict[str, int] = {}  # kind -> regions of that kind so far, for ids and names
    free = list(range(n))
    rng.shuffle(free)
    fi = 0
    for kind in kinds:
        # next free cell whose neighbours are not all taken (so a region has an outside neighbour)
        while fi < len(free) and region_of[free[fi]] >= 0:
            fi += 1
        if fi >= len(free) or sum(1 for c in region_of if c >= 0) > 0.6 * n:
            break
        lo, hi = REGION_SIZE[kind]
        cells = _grow_region(rng, city, free[fi], rng.randint(lo, hi))
        seq[kind] = seq.get(kind, 0) + 1
        no = seq[kind]
        city.regions.append(
            Region(
                region_id=f"{kind}-{no:03d}",
                name=_region_name(kind, no),
                kind=kind,
                watched=kind in WATCHED_KINDS,
                cells=sorted(cells),
                lat=round(sum(city.lat[c] for c in cells) / len(cells), 6),
                lon=round(sum(city.lon[c] for c in cells) / len(cells), 6),
            )
        )


def _grow_region(rng: random.Random, city: City, start: int, size: int) -> list[int]:
    """Up to ``size`` cells from ``start``, each a random free neighbour of the region so far; marks them as the
    next region in ``city.region_of``. Fewer when the region is walled in."""
    ri = len(city.regions)
    region_of = city.region_of
    cells = [start]
    region_of[start] = ri
    while len(cells) < size:
        cand = sorted({nb for c in cells for nb in city.neighbours(c) if region_of[nb] < 0})
        if not cand:
            break
        c = rng.choice(cand)
        cells.append(c)
        region_of[c] = ri
    return cells


def _region_name(kind: str, no: int) -> str:
    """The first transport regions are the city's airport and stations; others are "<district> <kind> <no>"."""
    if kind == "transport" and no <= len(TRANSPORT_NAMES):
        return TRANSPORT_NAMES[no - 1]
    return f"{DISTRICTS[(no - 1 + REGION_KINDS.index(kind) * 3) % len(DISTRICTS)]} {KIND_LABEL[kind]} {no}"


def _regions_by_kind(regions: list[Region]) -> dict[str, list[int]]:
    by_kind: dict[str, list[int]] = {k: [] for k in REGION_KINDS}
    for i, r in enumerate(regions):
        by_kind[r.kind].append(i)
    return by_kind


def _home_prefixes(subscribers: int) -> list[str]:
    """Enough home-province number prefixes to fill at most half of each."""
    n_home = max(10, math.ceil(subscribers * 2 / 10_000))
    return [f"{MOBILE_P3[k % len(MOBILE_P3)]}{HOME_BLOCK + k // len(MOBILE_P3):04d}" for k in range(n_home)]


def _other_prefixes(roamers: int, home_province: str) -> list[tuple[str, str]]:
    """(prefix, province) of the other provinces' number ranges, enough for the roamers."""
    n_other = max(2, math.ceil(roamers / 10_000 / len(OTHER_PROVINCES)) + 1)
    other: list[tuple[str, str]] = []
    for k in range(n_other):
        for prov, base in OTHER_PROVINCES:
            if prov == home_province:
                continue
            other.append((f"{MOBILE_P3[(k * 7 + base) % len(MOBILE_P3)]}{base + k:04d}", prov))
    return other
