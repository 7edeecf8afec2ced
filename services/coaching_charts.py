"""The competitor matrix as an image: deals per competitor, won / lost / still open (matplotlib,
the same fonts and PNG settings as services/charts.py)."""
from __future__ import annotations

from services.charts import _LOCK, _clip, _png, font  # first: it selects the Agg backend

from matplotlib.figure import Figure  # noqa: E402

WON, LOST, OPEN = "#16a34a", "#dc2626", "#94a3b8"


def matrix_png(title: str, rows: list, labels: dict[str, str]) -> bytes:
    """``rows``: services.competitors.MatrixRow; ``labels``: legend names keyed won/lost/open."""
    with _LOCK:
        n = max(1, len(rows))
        fig = Figure(figsize=(8.0, 1.4 + 0.55 * n))
        ax = fig.add_subplot(1, 1, 1)
        ys = list(range(len(rows)))[::-1]
        won = [r.won for r in rows]
        lost = [r.lost for r in rows]
        open_ = [r.open for r in rows]
        ax.barh(ys, won, color=WON, height=0.6, label=labels.get("won", "won"))
        ax.barh(ys, lost, left=won, color=LOST, height=0.6, label=labels.get("lost", "lost"))
        ax.barh(ys, open_, left=[w + l for w, l in zip(won, lost)], color=OPEN, height=0.6, label=labels.get("open", "open"))
        for y, r in zip(ys, rows):
            rate = "" if r.win_rate is None else f"  {r.win_rate:.0f}%"
            ax.text(r.deals + 0.1, y, f"{r.deals}{rate}", va="center", fontproperties=font(10))
        ax.set_yticks(ys)
        ax.set_yticklabels([_clip(r.competitor.name, 12) for r in rows], fontproperties=font(11))
        ax.set_xlim(0, max([r.deals for r in rows] + [1]) * 1.3)
        for label in ax.get_xticklabels():
            label.set_fontproperties(font(9))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.legend(prop=font(9), loc="lower right", frameon=False)
        fig.suptitle(_clip(title, 40), fontproperties=font(14))
        return _png(fig)
