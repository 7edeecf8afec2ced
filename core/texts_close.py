"""User-facing texts of the card's close estimate and best contact time (issue 13, item 7)."""
from __future__ import annotations

from core.texts_registry import TEXTS

TEXTS.update({
    # --- 14-day close: until the team has history, a coarse band and its basis in words -------
    "close_prior": {
        "zh": " · 14天成交：{band}（阶段经验值，尚无本团队数据）",
        "en": " · 14-day close: {band} (stage rule of thumb; no team data yet)",
    },
    "close_prior_some": {
        "zh": " · 14天成交：{band}（阶段经验值：本团队仅 {won} 个成交/{lost} 个丢单，各需 {need} 个）",
        "en": " · 14-day close: {band} (stage rule of thumb: this team has only {won} won / {lost} lost deals, {need} of each needed)",
    },
    "close_band_low": {"zh": "很低", "en": "very low"},
    "close_band_tenths": {"zh": "约{cn}成", "en": "about {n}0%"},
    "close_band_high": {"zh": "很高", "en": "very high"},
    # --- once the team's own model is fitted: the percentage and what it rests on -------------
    "close_team": {
        "zh": " · 14天成交概率 {p}%（基于本团队 {won} 个成交/{lost} 个丢单）",
        "en": " · 14-day close probability {p}% (from this team's {won} won / {lost} lost deals)",
    },
    # --- best contact time (local, minute resolution, inside working hours) -------------------
    "close_best_time": {
        "zh": "\n最佳联系时间：{at} 前后（客户 {days} 天里的 {n} 次回复）",
        "en": "\nBest time to reach them: around {at} ({n} replies on {days} days)",
    },
})


def close_band_key(probability: float) -> tuple[str, dict]:
    """A coarse band for a prior-only estimate: 'very low', 'about n tenths', 'very high'."""
    if probability < 0.05:
        return "close_band_low", {}
    if probability >= 0.95:
        return "close_band_high", {}
    n = min(9, max(1, round(probability * 10)))
    return "close_band_tenths", {"n": n, "cn": "一两三四五六七八九"[n - 1]}
