"""The objects every handler, job, CLI command and the ingestion server share."""
from __future__ import annotations

from dataclasses import dataclass, field

from core.clock import Clock
from core.config import Config
from storage.db import Database


@dataclass
class Core:
    db: Database
    config: Config
    clock: Clock = field(default_factory=Clock)
    bot_username: str = "salesbot"
    instance_id: str = "main"
