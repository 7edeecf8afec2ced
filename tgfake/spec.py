"""The Bot API specification (``api.json``) as lookups the fake server needs.

Why: the fake validates every request against the same machine-readable spec that documents
Telegram's API (required parameters, field types), answers every real method instead of 404,
and builds minimal result objects PTB can deserialise for methods it does not model.

The file is found, in order, via ``$TGFAKE_SPEC``, the project's shared folder
(``<repo>/../shared/telegram-bot-api/api.json``) or the copy bundled in ``tgfake/data/`` so a
fresh clone works on its own.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC_ENV = "TGFAKE_SPEC"
_HERE = Path(__file__).resolve()
SHARED_SPEC = _HERE.parents[2] / "shared" / "telegram-bot-api" / "api.json"
BUNDLED_SPEC = _HERE.parent / "data" / "api.json"

# 'Type of the message origin, always "user"' / 'Scope type, must be default'
_DISCRIMINATOR = re.compile(r'(?:always|must be) "?([a-z_]+)"?')
# Abstract types whose first subtype is not the natural "minimal" choice.
_PREFERRED_SUBTYPE = {
    "ChatMember": "ChatMemberMember",
    "MenuButton": "MenuButtonDefault",
    "MaybeInaccessibleMessage": "InaccessibleMessage",
}
_MAX_DEPTH = 6


@dataclass(frozen=True)
class Field:
    """One parameter of a method or field of a type."""

    name: str
    types: tuple[str, ...]
    required: bool
    description: str


@dataclass(frozen=True)
class Method:
    """A Bot API method: canonical name, return types and parameters in spec order."""

    name: str
    returns: tuple[str, ...]
    fields: dict[str, Field]

    @property
    def required(self) -> list[str]:
        """Names of the required parameters, in spec order."""
        return [f.name for f in self.fields.values() if f.required]


def spec_path() -> Path:
    """Returns the api.json to load (env var, then shared folder, then bundled copy)."""
    env = os.environ.get(SPEC_ENV)
    if env:
        return Path(env)
    if SHARED_SPEC.is_file():
        return SHARED_SPEC
    return BUNDLED_SPEC


def _field(raw: dict[str, Any]) -> Field:
    return Field(raw["name"], tuple(raw.get("types", ())), bool(raw.get("required")),
                 raw.get("description", ""))


class Spec:
    """Case-insensitive method lookup, type lookup and minimal-object construction."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data.get("version", "")
        self.types: dict[str, dict[str, Any]] = data["types"]
        self.methods: dict[str, Method] = {}
        for name, raw in data["methods"].items():
            fields = {f["name"]: _field(f) for f in raw.get("fields", [])}
            self.methods[name.lower()] = Method(name, tuple(raw.get("returns", ())), fields)
        self._counter = 0

    def method(self, name: str) -> Method | None:
        """Finds a method by name, ignoring case like Telegram does."""
        return self.methods.get(name.lower())

    def type_fields(self, type_name: str) -> list[Field]:
        """Fields of a type (empty for unknown or abstract types)."""
        return [_field(f) for f in self.types.get(type_name, {}).get("fields", [])]

    def discriminator(self, type_name: str) -> str | None:
        """The fixed ``type``/``status`` value of a concrete subtype, e.g. ``"member"``."""
        fields = self.types.get(type_name, {}).get("fields", [])
        if not fields:
            return None
        match = _DISCRIMINATOR.search(fields[0].get("description", ""))
        return match.group(1) if match else None

    def minimal(self, type_name: str, depth: int = 0) -> Any:
        """Builds a plausible object of ``type_name`` with all required fields filled in.

        Used for results of methods the fake does not model, so PTB can deserialise them.
        """
        scalar = self._scalar(type_name, "")
        if scalar is not _NO_SCALAR:
            return scalar
        if type_name.startswith("Array of "):
            return []
        info = self.types.get(type_name)
        if info is None:
            return {}
        subtypes = info.get("subtypes")
        if subtypes:
            return self.minimal(_PREFERRED_SUBTYPE.get(type_name, subtypes[0]), depth)
        return self._object(type_name, info, depth)

    def _object(self, type_name: str, info: dict[str, Any], depth: int) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        fixed = self.discriminator(type_name)
        for i, raw in enumerate(info.get("fields", [])):
            if not raw.get("required"):
                continue
            name, first_type = raw["name"], raw["types"][0]
            if i == 0 and fixed and first_type == "String":
                obj[name] = fixed
                continue
            value = self._scalar(first_type, name)
            if value is _NO_SCALAR:
                value = [] if first_type.startswith("Array of ") or depth >= _MAX_DEPTH \
                    else self.minimal(first_type, depth + 1)
            obj[name] = value
        return obj

    def _scalar(self, type_name: str, field_name: str) -> Any:
        if type_name == "String":
            return self._string(field_name)
        if type_name == "Integer":
            return int(time.time()) if field_name.endswith("date") else _INT_DEFAULTS.get(
                field_name, 0)
        if type_name == "Float":
            return 0.0
        if type_name in ("Boolean", "True"):
            return type_name == "True"
        return _NO_SCALAR

    def _string(self, field_name: str) -> str:
        self._counter += 1
        if field_name in ("file_id", "file_unique_id", "id") or field_name.endswith("_id"):
            return f"fake{field_name.replace('_', '')}{self._counter}"
        if "url" in field_name or "link" in field_name:
            return f"https://t.me/fake{self._counter}"
        if field_name == "emoji":
            return "\N{GAME DIE}"
        return _STRING_DEFAULTS.get(field_name, "fake")


_NO_SCALAR = object()
_INT_DEFAULTS = {"width": 1, "height": 1, "duration": 1, "value": 1, "star_count": 0}
_STRING_DEFAULTS = {"type": "regular", "currency": "XTR", "title": "Fake", "name": "fake",
                    "first_name": "Fake", "question": "Fake?", "text": "fake"}


@functools.lru_cache(maxsize=4)
def _load(path: str) -> Spec:
    with open(path, encoding="utf-8") as fh:
        return Spec(json.load(fh))


def load_spec(path: str | os.PathLike[str] | None = None) -> Spec:
    """Loads (once per path) and returns the spec."""
    return _load(str(Path(path) if path else spec_path()))
