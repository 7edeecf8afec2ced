"""The tables behind core.texts: keyed texts and the command menu.

core.texts fills them, then imports its ``texts_<area>`` modules, which add to them from here —
never from core.texts, so that no module imports core.texts back (no import cycle)."""
from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {}
COMMANDS: dict[str, tuple[str, str]] = {}
