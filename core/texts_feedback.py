"""User-facing texts of the analysis feedback buttons (issue 13 item 6: the team teaches the reader)."""
from __future__ import annotations

from core.texts_registry import TEXTS

TEXTS.update({
    "fb_ok": {"zh": "👍 准", "en": "👍 Right"},
    "fb_no": {"zh": "👎 不准", "en": "👎 Wrong"},
    "fb_ok_done": {"zh": "✅ 准（已记录）", "en": "✅ Right (saved)"},
    "fb_no_done": {"zh": "✅ 不准 → 应为{level}", "en": "✅ Wrong → should be {level}"},
    "fb_level_high": {"zh": "高", "en": "High"},
    "fb_level_medium": {"zh": "中", "en": "Medium"},
    "fb_level_low": {"zh": "低", "en": "Low"},
    "fb_obj_right": {"zh": "✓ {label}", "en": "✓ {label}"},
    "fb_obj_wrong": {"zh": "✗ {label}", "en": "✗ {label}"},
    "fb_saved": {"zh": "已记录，谢谢！团队的标注会让分析越来越准。", "en": "Saved, thanks: the team's labels tune the analysis."},
    "fb_pick_level": {"zh": "应该是哪一档？", "en": "Which level is right?"},
    "fb_stale": {
        "zh": "这个分析已失效，或您无权标注这个客户。",
        "en": "This analysis is no longer available, or you may not label this customer.",
    },
    "digest_feedback": {
        "zh": "🎯 分析准确度（近 {days} 天）：团队标注 {n} 次，{pct}% 认为准{model}",
        "en": "🎯 Analysis accuracy (last {days} days): {n} labels, {pct}% said right{model}",
    },
    "digest_feedback_model": {
        "zh": "；团队专属模型已启用（交叉验证 {team}% vs 通用 {shipped}%）",
        "en": "; the team's own model is on (cross-validated {team}% vs shipped {shipped}%)",
    },
})
