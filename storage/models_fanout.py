"""Indexes for the morning jobs at scale (migration 0007_fanout); declared here so autogenerate keeps them."""
from sqlalchemy import Index

from storage.models import ChecklistDone

_c = ChecklistDone.__table__.c
# The digest's stalled-deal escalations: each candidate's latest step in its current stage, from the index alone.
Index("ix_checklistdone_customer_stage_at", _c.customer_id, _c.stage, _c.at)
