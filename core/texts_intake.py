"""Texts of the intake checks: numbers that are not acceptable, input that cannot be read."""
from __future__ import annotations

from core.texts_registry import TEXTS

TEXTS.update({
    "num_negative": {"zh": "{field} 不能为负数", "en": "{field} cannot be negative"},
    "num_absurd": {"zh": "{field} 的数值不合理（应为有限数，且不超过 {max}）",
                   "en": "{field} is not a plausible number (it must be finite and at most {max})"},
})
