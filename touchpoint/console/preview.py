"""Preview before publish: a draft campaign backtested over the recorded history of ``console.history_dir``
against the campaigns in force, exactly as `touchpoint campaigns backtest` does it (touchpoint/tools/backtest.py),
so the page and the command show the same numbers. The history is read once and kept while its files are
unchanged; one preview runs at a time."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from touchpoint.config import Settings
from touchpoint.tools.backtest import DraftSummary, History
from udfs.campaigns import Campaign


class PreviewError(RuntimeError):
    """No history to preview over, or it could not be read; one line."""


@dataclass
class Preview:
    triggers: int
    span: str
    competing: int  # published campaigns other than the draft
    draft: DraftSummary
    lost: list[tuple[str, int, int]]  # published campaign, leads without the draft, with it

    def chart(self, width: int = 560, height: int = 160) -> dict:
        """The leads-per-day bars' geometry: each bar's x, y, width, height and label; the budget line's y."""
        days = self.draft.per_day
        top = max([n for _, n, _ in days] + [self.draft.budget or 0, 1])
        bar_w = min(width / max(len(days), 1), 72.0)  # one day is a bar, not a wall
        bars = [
            {
                "x": round(i * bar_w + 2, 1),
                "w": round(max(bar_w - 4, 1), 1),
                "h": round(n / top * (height - 20), 1),
                "y": round(height - n / top * (height - 20), 1),
                "day": day,
                "n": n,
                "full": full,
            }
            for i, (day, n, full) in enumerate(days)
        ]
        budget_y = None if self.draft.budget is None else round(height - self.draft.budget / top * (height - 20), 1)
        return {"width": width, "height": height, "bars": bars, "budget_y": budget_y}


class Previewer:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._history: tuple[tuple, History] | None = None

    def _stamp(self, d: Path) -> tuple:
        """The history's files and their times: a history written again is read again."""
        t = self.settings.topics
        names = [f"{t.triggers}.jsonl", f"{t.behaviour}.jsonl", f"{t.signaling}.jsonl", "reference/profiles.csv"]
        files = [d / n for n in names]
        return tuple((str(f), f.stat().st_mtime_ns) for f in files if f.exists())

    def history(self) -> History:
        from touchpoint.tools.backtest import load_history

        d = self.settings.console.history_dir
        if d is None:
            raise PreviewError("no recorded history to preview over: set console.history_dir (docs/console.md)")
        if not Path(d).is_dir():
            raise PreviewError(f"console.history_dir {d}: not a directory")
        stamp = self._stamp(Path(d))
        if self._history is None or self._history[0] != stamp:
            try:
                self._history = (stamp, load_history(self.settings, Path(d), progress=lambda m: None))
            except (OSError, ValueError) as e:
                raise PreviewError(f"console.history_dir {d}: {' '.join(str(e).split())}") from None
        return self._history[1]

    def run(self, draft: Campaign, published: list[Campaign]) -> Preview:
        from touchpoint.tools.backtest import backtest

        with self._lock:
            history = self.history()
            result = backtest(self.settings, [draft], published, history)
            n, span = result.span(history)
            return Preview(n, span, result.competing, result.summary(draft, history), result.lost())
