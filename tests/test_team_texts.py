"""Every text key the team area uses exists in Chinese and English, and the templated families
(errors, audit kinds, statuses, digest lines) are complete."""
from __future__ import annotations

import re
from pathlib import Path

from core.texts import COMMANDS, TEXTS
from services import audit

FILES = ["handlers/team.py", "handlers/audit.py", "handlers/owner.py", "handlers/start.py", "handlers/common.py",
         "services/team.py", "services/digest.py"]
ROOT = Path(__file__).resolve().parent.parent


def test_literal_keys_exist_in_both_languages():
    used = set()
    for name in FILES:
        used |= set(re.findall(r"\bt[p]?\(\s*\"([a-z0-9_]+)\"", (ROOT / name).read_text(encoding="utf-8")))
    assert used, "nothing found: the scan is broken"
    missing = sorted(k for k in used if k not in TEXTS or not {"zh", "en"} <= set(TEXTS[k]))
    assert missing == []


def test_key_families_are_complete():
    reasons = re.findall(r"TeamError\(\"([a-z_]+)\"\)", (ROOT / "services/team.py").read_text(encoding="utf-8"))
    families = [f"team_error_{r}" for r in set(reasons) | {"forbidden", "not_found"}]
    families += [f"audit_kind_{k}" for k in audit.KINDS]
    families += [f"team_status_{s}" for s in ("active", "blocked", "deactivated")]
    families += [f"digest_people_{k}" for k in ("left", "moved_out", "moved_in")]
    assert [k for k in families if k not in TEXTS or not {"zh", "en"} <= set(TEXTS[k])] == []
    families += ["access_ended", "access_ended_short", "invite_refused_member", "invite_refused_deactivated"]
    assert [k for k in families if k not in TEXTS or not {"zh", "en"} <= set(TEXTS[k])] == []
    assert {"team", "audit"} <= set(COMMANDS)
