"""`touchpoint report`: a self-contained HTML page from ClickHouse, rendered in headless Chromium (Debian's
`chromium`, installed by `make setup`). The screenshot is kept as a test artifact: work/artifacts/report.png
(with the page it shows, work/artifacts/report.html)."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.dashboards.sample import MIN_SAMPLE, REGIONS, config_file, load_sample
from tests.support import TOUCHPOINT, make_settings
from touchpoint import ROOT
from touchpoint.dashboards.report import coverage_colour
from udfs.effect import uplift

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "work" / "artifacts"
WINDOW = (1280, 2600)


class Page(HTMLParser):
    """The bits of the report the tests look at."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.circles: list[dict] = []
        self.titles: list[str] = []
        self._in_title = False
        self._stack: list[str] = []
        self.text_by_class: dict[str, list[str]] = {}
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        self._stack.append(a.get("class", ""))
        if tag == "circle" and "region" in (a.get("class") or "").split():
            self.circles.append(a)
        if tag == "title" and self.circles and len(self.titles) < len(self.circles):
            self._in_title = True

    def handle_endtag(self, tag):
        if self._stack:
            self._stack.pop()
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.titles.append(data)
        if self._stack and self._stack[-1] and data.strip():
            self.text_by_class.setdefault(self._stack[-1], []).append(data.strip())


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    work = tmp_path_factory.mktemp("report-work")
    settings = make_settings(work)
    expected = load_sample(settings)
    out = work / "out" / "report.html"
    res = subprocess.run(
        [TOUCHPOINT, "report", "--out", str(out), "--config", str(config_file(settings, work))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"wrote {out}: 12 regions, 10 opportunity regions, 4 campaigns")
    return out, expected


def test_report_is_self_contained_with_map_table_and_funnel(report):
    out, expected = report
    text = out.read_text()
    page = Page(text)
    # nothing is fetched: no external scripts, styles, images, fonts or frames
    for tag, a in page.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
        assert "src" not in a and not (a.get("href") or "").startswith(("http", "//")), (tag, a)
    assert "url(http" not in text and "@import" not in text and "cdn" not in text.lower()
    # one circle per region, coloured by coverage, with its name in the tooltip
    assert len(page.circles) == len(REGIONS)
    latest = expected["latest"]
    for c in page.circles:
        row = latest[c["data-id"]]
        assert c["fill"] == coverage_colour(row[11])
        assert int(c["data-subscribers"]) == row[7]
    names = {r[1] for r in REGIONS}
    assert {t.split(" (")[0] for t in page.titles} == names
    assert page.circles[0]["data-id"] == max(latest.values(), key=lambda r: r[7])[0]  # biggest drawn first
    # the top opportunity table follows the data; the funnel has the exact counts
    top = sorted((r for r in latest.values() if r[10] > 0), key=lambda r: (-r[10], r[11], r[1]))[:10]
    table = text.split('<table class="top">')[1].split("</table>")[0]
    assert [Page(row).text_by_class.get("text", [""])[0] for row in table.split("<tr")[2:]] == [r[1] for r in top]
    for cid, f in expected["funnel"].items():
        block = text.split(f'data-campaign="{cid}"')[1].split('<div class="campaign"')[0]
        for step in ("triggers", "leads", "delivered", "converted"):
            num = block.split(f'class="step {step}"')[1].split('class="num">')[1].split(" ")[0]
            assert int(num.replace(",", "")) == f[step], (cid, step)
    # the campaign results: every arm counted, each estimate's interval drawn, the guardrail's word, the share
    results = text.split('<table class="results">')[1].split("</table>")[0]
    for (cid, arm), want in expected["results"].items():
        row = results.split(f'<tr data-campaign="{cid}" data-arm="{arm}">')[1].split("</tr>")[0]
        cells = [c.split("<")[0] for c in row.split('<td class="int">')[1:4]]
        assert [int(c.replace(",", "")) for c in cells] == [want["leads"], want["delivered"], want["converted"]]
    for cid, c in expected["control"].items():
        u = uplift(*c.values(), min_sample=MIN_SAMPLE)
        row = results.split(f'<tr data-campaign="{cid}" data-arm="treatment">')[1].split("</tr>")[0]
        if u.enough_data:  # the bar spans the interval
            assert f'data-low="{u.ci_low:.4f}" data-high="{u.ci_high:.4f}"' in row
        else:
            assert "<svg" not in row and "not enough data" in row
    assert 'class="guardrail paused" data-campaign="dial-114-12580"' in text
    assert 'class="guardrail resumed" data-campaign="quota-20mb-reminder"' in text
    assert '<figure class="share" data-campaign="mall-entry-shop">' in text
    # the trial journeys' funnel and reasons, as the dashboard's panel counts them
    journeys = text.split('<table class="journeys">')[1].split("</table>")[0]
    cells = [c.split("<")[0] for c in journeys.split("<tr")[2].split(">")[1:] if c.split("<")[0].strip()]
    want = expected["journey"]
    order = ("started", "nudged", "reminded", "converted")
    assert cells[0] == "music-club-trial" and [int(c) for c in cells[1:5]] == [want[k] for k in order], cells


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=180)


def decode_png_rows(data: bytes, max_rows: int) -> tuple[int, int, int, list[bytes]]:
    """(width, height, bytes per pixel, the first max_rows rows) of an 8-bit RGB/RGBA PNG."""
    pos, idat, meta = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            meta = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    w, h, depth, ctype, _, _, interlace = meta
    assert depth == 8 and ctype in (2, 6) and interlace == 0, meta
    bpp = 3 if ctype == 2 else 4
    raw, stride, prev, rows = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
    for y in range(min(h, max_rows)):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                line[i] = (line[i] + (((line[i - bpp] if i >= bpp else 0) + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a, b, c = (line[i - bpp] if i >= bpp else 0), prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def test_report_renders_in_headless_chromium(report, tmp_path):
    if CHROMIUM is None:
        pytest.skip(
            "!!! CHROMIUM IS NOT INSTALLED: the report was NOT rendered in a browser. `make setup` installs "
            "the Debian package chromium; install it (apt-get install chromium) and re-run !!!"
        )
    out, expected = report
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page_copy = ARTIFACTS / "report.html"
    shutil.copyfile(out, page_copy)
    url = page_copy.resolve().as_uri()

    dom = _chromium("--dump-dom", "--virtual-time-budget=3000", url, profile=tmp_path / "p1")
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = Page(dom.stdout)
    body = next(a for t, a in page.tags if t == "body")
    assert body.get("data-ready") == "yes", "the page's script did not run to the end"
    assert len(page.circles) == len(REGIONS)
    assert sorted(t.split(" (")[0] for t in page.titles) == sorted(r[1] for r in REGIONS)
    for c, title in zip(page.circles, page.titles):
        row = expected["latest"][c["data-id"]]
        assert title.startswith(f"{row[1]} (") and f"{row[7]:,} subscribers present" in title

    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    res = _chromium(f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}", url, profile=tmp_path / "p2")
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    print(f"\nreport screenshot: {shot}")
    w, h, bpp, rows = decode_png_rows(shot.read_bytes(), max_rows=1300)  # the map is in the first 1300 px
    assert (w, h) == WINDOW
    # every circle's colour (fill-opacity .85 over the map background #eef3f7) is on screen
    pixels: dict[tuple, int] = {}
    for row in rows:
        for i in range(0, len(row), bpp):
            key = (row[i] >> 2, row[i + 1] >> 2, row[i + 2] >> 2)
            pixels[key] = pixels.get(key, 0) + 1
    bg = (0xEE, 0xF3, 0xF7)
    for c in page.circles:
        fill = bytes.fromhex(c["fill"][1:])
        want = [round(0.85 * f + 0.15 * b) for f, b in zip(fill, bg)]
        seen = sum(n for k, n in pixels.items() if all(abs((k[j] << 2) + 2 - want[j]) <= 6 for j in range(3)))
        assert seen >= 20, f"circle {c['data-id']} ({c['fill']}) not visible in the screenshot ({seen} px)"
