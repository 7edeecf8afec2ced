"""The stand-in actor for changes made by a system (the ingestion API, a connector), not a person:
history rows written as it get by_user_id None."""
from __future__ import annotations

from types import SimpleNamespace

SYSTEM = SimpleNamespace(id=None, team_id=None, role="system", name="system", language="zh")
