"""PNG charts with Chinese labels: the leaderboard bar chart, the ability radar and the funnel.

matplotlib's object API on the Agg canvas (no pyplot state, no display).  The CJK font ships with
the repo (services/fonts, a GB2312 subset of WenQuanYi Micro Hei), so a fresh clone renders Chinese
without system fonts; DejaVu Sans (bundled with matplotlib) is the fallback for other glyphs.
Rendering is serialised by a lock: matplotlib's font cache is not thread-safe and jobs and
handlers run in worker threads.
"""
from __future__ import annotations

import io
import math
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402

FONT_PATH = Path(__file__).resolve().parent / "fonts" / "wqy-microhei-gb2312.ttf"
_LOCK = threading.Lock()
BAR = "#3b82f6"
BAR_SOFT = "#93c5fd"
ALERT = "#ef4444"
GREY = "#6b7280"
DPI = 110


@lru_cache(maxsize=1)
def _family() -> list[str]:
    font_manager.fontManager.addfont(str(FONT_PATH))
    name = FontProperties(fname=str(FONT_PATH)).get_name()
    return [name, "DejaVu Sans"]


def font(size: float = 11) -> FontProperties:
    # WenQuanYi Micro Hei has a single (regular) weight: asking for bold only logs warnings.
    return FontProperties(family=_family(), size=size)


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


def _clip(text: str, limit: int) -> str:
    from core.textfit import shorten
    return shorten(str(text), limit)


# --- leaderboard -----------------------------------------------------------------------------------

def leaderboard_png(title: str, rows: list[dict[str, Any]], headers: dict[str, str], subtitle: str = "") -> bytes:
    """Horizontal bars (share of own target, %) with a small table: points, deals, compliance, quality, movement.

    ``rows``: dicts with label, group, share, points, deals, compliance, quality, move (already display strings
    where text).  ``headers``: column titles keyed share/points/deals/compliance/quality/move.
    """
    with _LOCK:
        n = max(1, len(rows))
        fig = Figure(figsize=(9.6, 1.4 + 0.55 * n))
        grid = fig.add_gridspec(1, 2, width_ratios=[1.15, 1.0], wspace=0.04)
        ax = fig.add_subplot(grid[0, 0])
        table_ax = fig.add_subplot(grid[0, 1])
        labels = [_clip(r["label"], 14) for r in rows]
        values = [max(0.0, float(r["share"])) for r in rows]
        ys = list(range(len(rows)))[::-1]
        colors = [BAR if i < len(rows) else BAR_SOFT for i in range(len(rows))]
        ax.barh(ys, values, color=colors, height=0.6)
        top = max(values + [100.0]) * 1.18
        ax.set_xlim(0, top)
        ax.axvline(100, color=GREY, linestyle=":", linewidth=1)
        for y, v in zip(ys, values):
            ax.text(v + top * 0.01, y, f"{v:.0f}%", va="center", fontproperties=font(10))
        ax.set_yticks(ys)
        ax.set_yticklabels(labels, fontproperties=font(11))
        ax.set_ylim(-0.6, len(rows) - 0.1)
        ax.set_xlabel(headers.get("share", ""), fontproperties=font(10))
        for label in ax.get_xticklabels():
            label.set_fontproperties(font(9))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        table_ax.axis("off")
        table_ax.set_ylim(-0.6, len(rows) - 0.1)
        table_ax.set_xlim(0, 5)
        columns = ["points", "deals", "compliance", "quality", "move"]
        for i, key in enumerate(columns):
            table_ax.text(i + 0.5, len(rows) - 0.45, headers.get(key, key), ha="center", va="center",
                          fontproperties=font(10), color=GREY)
            for y, r in zip(ys, rows):
                value = str(r.get(key, ""))
                color = "#16a34a" if key == "move" and value.startswith("↑") else (
                    ALERT if key == "move" and value.startswith("↓") else "black")
                table_ax.text(i + 0.5, y, _clip(value, 8), ha="center", va="center", fontproperties=font(11), color=color)
        fig.suptitle(_clip(title, 40), fontproperties=font(15), y=1.0)
        if subtitle:
            fig.text(0.5, -0.04 - 0.1 / n, _clip(subtitle, 80), ha="center", va="top", fontproperties=font(9), color=GREY)
        return _png(fig)


# --- ability radar ---------------------------------------------------------------------------------

def radar_png(title: str, labels: list[str], scores: list[float], team_avg: list[float] | None = None,
              legend: tuple[str, str] = ("", ""), highlight: int | None = None) -> bytes:
    """A radar of 0-100 scores; the team average dashed; the weakest axis label in red."""
    with _LOCK:
        n = len(labels)
        angles = [2 * math.pi * i / n for i in range(n)]
        fig = Figure(figsize=(6.2, 6.2))
        ax = fig.add_subplot(111, projection="polar")
        ax.set_theta_offset(math.pi / 2)
        ax.set_theta_direction(-1)
        closed = angles + angles[:1]
        values = [max(0.0, min(100.0, float(s))) for s in scores]
        ax.plot(closed, values + values[:1], color=BAR, linewidth=2, label=legend[0] or None)
        ax.fill(closed, values + values[:1], color=BAR, alpha=0.25)
        if team_avg is not None:
            avg = [max(0.0, min(100.0, float(s))) for s in team_avg]
            ax.plot(closed, avg + avg[:1], color=GREY, linewidth=1.2, linestyle="--", label=legend[1] or None)
        ax.set_ylim(0, 100)
        ax.set_yticks([25, 50, 75, 100])
        ax.set_yticklabels(["25", "50", "75", "100"], fontproperties=font(8), color=GREY)
        ax.set_xticks(angles)
        from core.textfit import wrap_label
        ax.set_xticklabels([f"{wrap_label(label, 12)}\n{v:.0f}" for label, v in zip(labels, values)],
                           fontproperties=font(12))
        ax.tick_params(axis="x", pad=14)
        if highlight is not None:
            ax.get_xticklabels()[highlight].set_color(ALERT)
        if legend[0] or legend[1]:
            ax.legend(loc="upper right", bbox_to_anchor=(1.18, 1.12), prop=font(10), frameon=False)
        fig.suptitle(_clip(title, 30), fontproperties=font(15), y=1.05)  # above the two-line top label
        return _png(fig)


# --- funnel ------------------------------------------------------------------------------------------

def funnel_png(title: str, stages: list[dict[str, Any]], bottleneck: int | None, notes: dict[str, str]) -> bytes:
    """Centered bars per stage (customers who reached it), conversion to the next stage between bars,
    and the bottleneck stage in red with its stalled count.

    ``stages``: dicts with label, reached, current, stalled, conversion (to the next stage, % or None).
    ``notes``: display words keyed reached/current/stalled/bottleneck/conversion.
    """
    with _LOCK:
        n = len(stages)
        fig = Figure(figsize=(8.6, 1.0 + 0.78 * n))
        ax = fig.add_subplot(111)
        peak = max([s["reached"] for s in stages] + [1])
        for i, s in enumerate(stages):
            y = n - 1 - i
            width = max(0.02 * peak, s["reached"])
            color = ALERT if i == bottleneck else BAR
            ax.barh(y, width, left=-width / 2, height=0.62, color=color, alpha=0.9)
            from core.textfit import wrap_label
            ax.text(-peak / 2 - peak * 0.04, y, wrap_label(s["label"], 12), ha="right", va="center",
                    fontproperties=font(11 if str(s["label"]).isascii() else 12))
            detail = f"{notes.get('reached', '')} {s['reached']} · {notes.get('current', '')} {s['current']}"
            if s.get("stalled"):
                detail += f" · {notes.get('stalled', '')} {s['stalled']}"
            if i == bottleneck:
                detail += f"  ◀ {notes.get('bottleneck', '')}"
            ax.text(peak / 2 + peak * 0.04, y, detail, ha="left", va="center", fontproperties=font(10),
                    color=ALERT if i == bottleneck else "black")
            if s.get("conversion") is not None and i < n - 1:
                ax.text(0, y - 0.5, f"↓ {s['conversion']:.0f}%", ha="center", va="center", fontproperties=font(9), color=GREY)
        ax.set_xlim(-peak * 1.25, peak * 1.6)
        ax.set_ylim(-0.7, n - 0.3)
        ax.axis("off")
        fig.suptitle(_clip(title, 40), fontproperties=font(15))
        return _png(fig)
