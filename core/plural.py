"""English counts agree with their noun: a template's ``{n} customers`` renders ``1 customer`` when n is 1."""
from __future__ import annotations

import re
from typing import Any

# English nouns after a count: "{n} customers" renders "1 customer" when n is 1.
_SINGULAR = {"customers": "customer", "actions": "action", "days": "day", "hours": "hour", "attendees": "attendee",
             "flags": "flag", "approvals": "approval", "rows": "row", "activities": "activity", "pts": "pt",
             "points": "point", "times": "time", "characters": "character", "reminders": "reminder",
             "awards": "award", "minutes": "minute", "seconds": "second", "items": "item", "leads": "lead",
             "records": "record", "deals": "deal", "duplicates": "duplicate", "reps": "rep", "moves": "move",
             "people": "person", "weeks": "week", "follow-ups": "follow-up", "stages": "stage"}
_COUNTED = re.compile(r"\{(\w+)\}( (?:more |new |open )?)(" + "|".join(map(re.escape, _SINGULAR)) + r")\b")


def english_plurals(template: str, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The template with each counted noun replaced by a placeholder, and the values with its word."""
    if "{" not in template:
        return template, values
    extra: dict[str, Any] = {}

    def swap(match) -> str:
        name, gap, noun = match.group(1), match.group(2), match.group(3)
        key = f"_pl{len(extra)}"
        extra[key] = _SINGULAR[noun] if str(values.get(name, "")) in ("1", "-1") else noun
        return "{" + name + "}" + gap + "{" + key + "}"
    template = _COUNTED.sub(swap, template)
    return template, ({**values, **extra} if extra else values)
