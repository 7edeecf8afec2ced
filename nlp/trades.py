"""Canonical trades: the free-form trade labels of the training chats (the generator's trade, a
writer's own `trade_written` such as "SaaS/ERP", "医疗器械" or "保險/儲蓄險", the dev set's `industry`)
read as one of a few canonical trades (nlp/data/trades.toml), so that `nlp eval --cv --by=trade`
leaves out a whole trade across generated and written chats alike.

A label the table does not know is *unmapped* (canonical_trade → None; trade_of → "unmapped:<label>"),
never quietly "other".
"""
from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).parent / "data" / "trades.toml"
UNMAPPED = "unmapped"
# written.jsonl and the dev set carry the placeholder trade "handwritten" (nlp/train.py)
PLACEHOLDER = "handwritten"


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    with open(TABLE, "rb") as fh:
        raw = tomllib.load(fh)["canonical"]
    table: dict[str, str] = {}
    for canonical, labels in raw.items():
        for label in (canonical, *labels):  # a canonical name stands for itself
            key = _key(label)
            if table.get(key, canonical) != canonical:
                raise ValueError(f"{TABLE}: {label!r} listed under {table[key]} and {canonical}")
            table[key] = canonical
    return table


def canonical_names() -> list[str]:
    return sorted(set(_table().values()))


def _key(label: str) -> str:
    return re.sub(r"[\s\-]+", "_", label.strip().lower())


def canonical_trade(label: str | None) -> str | None:
    """The canonical trade of a free-form label: the label whole, else its part before the first
    "/"; None when the table has neither."""
    if not label:
        return None
    table = _table()
    key = _key(label)
    if key in table:
        return table[key]
    head = key.split("/", 1)[0]
    return table.get(head)


def label_of(record: dict) -> str | None:
    """The record's own trade label: the writer's `trade_written`, else `trade` unless it is the
    placeholder, else the dev set's `industry`."""
    for field in ("trade_written", "trade", "industry"):
        value = record.get(field)
        if value and value != PLACEHOLDER:
            return str(value)
    return None


def trade_of(record: dict) -> str:
    """The record's canonical trade; "unmapped:<label>" (or "unmapped" without a label) otherwise."""
    label = label_of(record)
    found = canonical_trade(label)
    if found is not None:
        return found
    return f"{UNMAPPED}:{label}" if label else UNMAPPED
