"""Telegram Business: a rep connects salesbot to their business account (with recorded consent)."""
from __future__ import annotations

from typing import Optional

from pydantic import NaiveDatetime
from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel


class BusinessLink(SQLModel, table=True):
    connection_id: str = Field(primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    enabled: bool = True  # Telegram's side: the rep has not disconnected the bot
    consent: str = "pending"  # pending | granted | declined | revoked — salesbot's side
    consent_at: Optional[NaiveDatetime] = None
    created_at: NaiveDatetime


class BusinessChat(SQLModel, table=True):
    """Which customer a chat of the rep's business account is about."""
    connection_id: str = Field(primary_key=True, foreign_key="businesslink.connection_id")
    chat_id: int = Field(sa_type=BigInteger, primary_key=True)
    customer_id: Optional[int] = Field(default=None, foreign_key="customer.id")
    title: str = ""
    last_level: Optional[str] = None
    last_objections: str = ""


class BusinessMessage(SQLModel, table=True):
    __table_args__ = (Index("ix_bizmsg_chat", "connection_id", "chat_id", "id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    connection_id: str = Field(foreign_key="businesslink.connection_id")
    chat_id: int = Field(sa_type=BigInteger)
    from_rep: bool
    sender: str = ""
    text: str
    at: NaiveDatetime
