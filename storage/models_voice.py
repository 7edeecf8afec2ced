"""Use of the paid services outside the deployment (speech, language model), per day (issue 17)."""
from __future__ import annotations

from sqlmodel import Field, SQLModel


class ServiceUsage(SQLModel, table=True):
    """How much of a service's daily budget is spent: seconds of audio, or calls. Shared by every
    instance of the bot and kept across restarts."""
    service: str = Field(primary_key=True)  # speech | assistant
    day: str = Field(primary_key=True)      # the team's local date, YYYY-MM-DD
    used: float = 0.0
