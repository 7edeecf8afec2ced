"""Connectors to other systems (ERP orders, chat archive): see base.py and docs/connectors.md."""
from ingest.connectors.base import Connector, FetchError, ItemError, Page
from ingest.connectors.runs import connector_class, run_connector

__all__ = ["Connector", "FetchError", "ItemError", "Page", "connector_class", "run_connector"]
