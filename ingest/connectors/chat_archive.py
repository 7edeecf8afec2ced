"""Chat archive (WeCom 会话存档): message batches → activities and intent analyses.

Contract (docs/connectors.md): ``GET {base_url}/messages?cursor=&limit=`` →
``{"messages": [Message…], "next_cursor": "...", "has_more": false}``.

Per page, new messages (``ExternalRef(chat_archive, message, msg_id)``; repeats are skipped)
are grouped by conversation.  A conversation's customer is found by the ids it carries
(archive customer id seen before, phone, company); messages of an unknown customer are kept
as ``unmatched`` refs and counted in the run log.  Each conversation batch becomes one
Activity (kind ``chat``: message count, files sent, keywords) and, when it reads as a
conversation, an intent analysis (nlp.analyze) stored like a pasted chat (IntentRecord +
the customer's intent score), with FieldHistory naming the connector run.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from core.clock import to_local, to_naive_utc
from ingest.connectors.base import Connector, ItemError, PageResult, entry, get_ref
from services import cleaning
from services.cleaning import normalize_phone
from services.company_names import company_core
from storage.models import Activity, Customer, FieldHistory, IntentRecord

log = logging.getLogger(__name__)
from storage.models_ingest import ConnectorRun, ExternalRef

MESSAGE_TYPES = ("text", "file", "image", "voice", "link")


def parse_message(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ItemError("message", "expected an object")
    msg_id = raw.get("msg_id")
    if not isinstance(msg_id, str) or not msg_id or len(msg_id) > 100:
        raise ItemError("msg_id", "required (1-100 characters)")
    conv = raw.get("conversation_id")
    if not isinstance(conv, str) or not conv or len(conv) > 100:
        raise ItemError("conversation_id", "required (1-100 characters)")
    sender = raw.get("from")
    if not isinstance(sender, dict) or sender.get("role") not in ("customer", "rep"):
        raise ItemError("from", "expected {name, role: customer|rep}")
    kind = raw.get("type", "text")
    if kind not in MESSAGE_TYPES:
        raise ItemError("type", f"expected one of {', '.join(MESSAGE_TYPES)}")
    text = raw.get("text") or ""
    if not isinstance(text, str):
        raise ItemError("text", "expected text")
    when = raw.get("time")
    try:
        at = to_naive_utc(datetime.fromisoformat(when.replace("Z", "+00:00"))) if isinstance(when, str) else None
    except ValueError:
        at = None
    if at is None:
        raise ItemError("time", "expected an ISO 8601 date-time")
    customer = raw.get("customer") if isinstance(raw.get("customer"), dict) else {}
    return {"msg_id": msg_id, "conversation_id": conv, "name": cleaning.norm_text(sender.get("name") or "")[:40]
            or ("客户" if sender["role"] == "customer" else "销售"), "role": sender["role"], "type": kind,
            "text": text[:4000], "file_name": str(raw.get("file_name") or "")[:120], "at": at,
            "customer": {k: str(v)[:100] for k, v in customer.items() if isinstance(v, (str, int))}}


class ChatArchiveConnector(Connector):
    name = "chat_archive"
    path = "/messages"
    items_key = "messages"

    def apply_items(self, session: Session, run: ConnectorRun, items: list[Any], now: datetime) -> PageResult:
        result = PageResult()
        conversations: "OrderedDict[str, list[dict]]" = OrderedDict()
        seen: set[str] = set()
        for raw in items:
            try:
                msg = parse_message(raw)
            except ItemError as exc:
                result.rejected += 1
                result.log.append(entry(now, "warning", f"rejected message: {exc}"))
                continue
            if msg["msg_id"] in seen or get_ref(session, self.name, "message", msg["msg_id"]) is not None:
                result.skipped += 1
                continue
            seen.add(msg["msg_id"])
            conversations.setdefault(msg["conversation_id"], []).append(msg)
        for conv_id, messages in conversations.items():
            messages.sort(key=lambda m: (m["at"], m["msg_id"]))
            customer = self._customer_for(session, messages)
            status = "applied" if customer is not None else "unmatched"
            for msg in messages:
                session.add(ExternalRef(connector=self.name, kind="message", external_id=msg["msg_id"],
                                        customer_id=customer.id if customer else None, status=status,
                                        first_run_id=run.id, last_run_id=run.id, created_at=now, updated_at=now,
                                        data={"conversation_id": conv_id} if customer else
                                        {"conversation_id": conv_id, "customer": msg["customer"]}))
            if customer is None:
                result.skipped += len(messages)
                result.log.append(entry(now, "warning", "conversation with an unknown customer kept as unmatched",
                                        conversation=conv_id, messages=len(messages)))
                continue
            self._record(session, run, customer, conv_id, messages, now)
            result.applied += len(messages)
        session.flush()
        return result

    def _customer_for(self, session: Session, messages: list[dict]) -> Customer | None:
        ids: dict[str, str] = {}
        for msg in messages:
            for key, value in msg["customer"].items():
                ids.setdefault(key, value)
        customer: Customer | None = None
        if ids.get("external_id"):
            ref = get_ref(session, self.name, "customer", ids["external_id"])
            customer = session.get(Customer, ref.customer_id) if ref and ref.customer_id else None
        if customer is None and ids.get("customer_id", "").isdigit():
            customer = session.get(Customer, int(ids["customer_id"]))
        if customer is None and ids.get("phone"):
            norm = normalize_phone(cleaning.norm_phone(ids["phone"]))
            if norm:
                customer = session.exec(select(Customer).where(Customer.phone_norm == norm, Customer.invalid == False)  # noqa: E712
                                        .order_by(Customer.id)).first()
        if customer is None and ids.get("company"):
            core_name = company_core(cleaning.norm_company(ids["company"]))
            if core_name:
                customer = session.exec(select(Customer).where(Customer.company_norm == core_name,
                                                               Customer.invalid == False).order_by(Customer.id)).first()  # noqa: E712
        if customer is not None and customer.invalid:
            customer = None
        if customer is not None and ids.get("external_id") and get_ref(session, self.name, "customer", ids["external_id"]) is None:
            now = self.core.clock.now()
            session.add(ExternalRef(connector=self.name, kind="customer", external_id=ids["external_id"],
                                    customer_id=customer.id, created_at=now, updated_at=now))
            session.flush()
        return customer

    def _record(self, session: Session, run: ConnectorRun, customer: Customer, conv_id: str,
                messages: list[dict], now: datetime) -> None:
        config = self.core.config
        origin = f"connector:{self.name}"
        ref_text = f"run:{run.id}/conv:{conv_id}"
        rep_names = sorted({m["name"] for m in messages if m["role"] == "rep"})
        files = [m["file_name"] or m["type"] for m in messages if m["type"] != "text"]
        lines = []
        for m in messages:
            body = m["text"].strip() or (f"[文件] {m['file_name']}" if m["type"] == "file" else f"[{m['type']}]")
            stamp = to_local(m["at"], config.tz).strftime("%H:%M")
            lines.append(f"{m['name']} {stamp}\n{body}")
        transcript = "\n".join(lines)
        analysis = None
        try:
            from services import intel
            analysis = intel.analyse(transcript, rep_names, config.objection_scripts())
        except ImportError:  # nlp/ not installed: activities are still recorded
            analysis = None
        except Exception:  # noqa: BLE001 - a text the analyser chokes on must not block the feed
            log.exception("intent analysis failed for conversation %s", conv_id)
            analysis = None
        data: dict[str, Any] = {"source": origin, "ref": ref_text, "messages": len(messages),
                                "customer_messages": sum(1 for m in messages if m["role"] == "customer"),
                                "files": files[:20], "conversation_id": conv_id,
                                # when the customer wrote (local minutes): the card's best contact time
                                "reply_times": sorted({to_local(m["at"], config.tz).strftime("%Y-%m-%dT%H:%M")
                                                       for m in messages if m["role"] == "customer"})[-200:]}
        if analysis is not None and getattr(analysis, "is_conversation", True):
            data.update({"score": analysis.score, "level": analysis.level,
                         "objections": [o.id for o in analysis.objections], "keywords": list(analysis.keywords[:10])})
            session.add(IntentRecord(customer_id=customer.id, user_id=customer.owner_id, score=analysis.score,
                                     level=analysis.level, objections=[o.id for o in analysis.objections],
                                     reply_hours=list(analysis.reply_hours), at=now))
            customer.intent_score = analysis.score
            customer.intent_level = analysis.level
            customer.updated_at = now
            session.add(customer)
            for name, value in (("intent_score", str(analysis.score)), ("intent_level", analysis.level)):
                session.add(FieldHistory(customer_id=customer.id, field=name, value=value, source=origin,
                                         source_ref=ref_text, at=now))
        level = f" · {data['level']} {data['score']}" if "score" in data else ""
        session.add(Activity(customer_id=customer.id, user_id=None, kind="chat", at=max(m["at"] for m in messages),
                             text=f"企业微信会话 {len(messages)} 条消息{level}"[:200], data=data))
