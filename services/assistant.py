"""The optional AI assistant: a five-line summary and three reply drafts for an analysed conversation,
through any OpenAI-compatible ``POST {base}/v1/chat/completions`` (vLLM, Ollama, DeepSeek, Qwen…).

Configured in the environment: ``SALESBOT_LLM_URL`` (required), ``SALESBOT_LLM_MODEL``,
``SALESBOT_LLM_KEY``, ``SALESBOT_LLM_TIMEOUT``. Prompts live in the playbook ([assistant]); text
leaves only when ``[privacy] text_may_leave`` is on, with phone numbers and amounts masked when
``mask_numbers`` is. The answers are drafts for the rep: nothing here sends anything to a customer.
When the model fails, ``offline_summary`` / ``offline_replies`` give the answer from the offline
analysis and the playbook's scripts. No Telegram types here.
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass
from typing import Any

from core.config import Config
from services.resilience import DailyBudget, Endpoint, RetryPolicy, ServiceError, ServiceSettings
from services.usage import DbBudget
from services.spoken import normalize_spoken

log = logging.getLogger(__name__)
PATH = "/v1/chat/completions"
SUMMARY_LINES = 5
REPLY_DRAFTS = 3

_PHONE = re.compile(r"(?<![\d])(?:(?:\+|00)?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)"
                    r"|(?<![\d])0\d{2,3}[-\s]?\d{7,8}(?!\d)")
_AMOUNT = re.compile(r"(?:[¥￥]|RMB\s?|人民币)\s*\d[\d,]*(?:\.\d+)?(?:\s*(?:百万|万|千|亿))?(?:\s*(?:元|块钱|块))?"
                     r"|\d[\d,]*(?:\.\d+)?\s*(?:(?:百万|万|亿|千|[wWkK](?![A-Za-z]))(?:\s*(?:元|块钱|块))?|元|块钱|块)"
                     r"|(?<![\d\-/:.])\d{5,}(?![\d\-/:])")


def mask(text: str) -> str:
    """Phone numbers → [电话], amounts (typed or spoken: 5万, 五万, ¥3000, 120000) → [金额]."""
    return _AMOUNT.sub("[金额]", _PHONE.sub("[电话]", normalize_spoken(text, amount_as="[金额]")))


@dataclass
class Answer:
    lines: list[str]
    ms: float
    tokens: int


class Assistant:
    def __init__(self, settings: ServiceSettings, config: Config, db: Any = None, **endpoint_kw: Any) -> None:
        endpoint_kw.setdefault("policy", RetryPolicy(attempts=2))
        limit = config.assistant.daily_calls
        budget = DbBudget(db, "assistant", limit) if db is not None else DailyBudget(limit)
        self.endpoint = Endpoint(settings, budget, **endpoint_kw)
        self.config = config

    @classmethod
    def from_env(cls, config: Config, env: dict[str, str] | None = None, db: Any = None) -> "Assistant | None":
        settings = ServiceSettings.from_env("SALESBOT_LLM", "default", os.environ if env is None else env)
        return None if settings is None else cls(settings, config, db=db)

    async def close(self) -> None:
        await self.endpoint.close()

    def outgoing(self, conversation: str) -> str:
        """The text that may leave: the most recent part, masked when the playbook says so."""
        text = conversation[-self.config.assistant.max_input_chars:]
        return mask(text) if self.config.privacy.mask_numbers else text

    async def summary(self, conversation: str, day: str) -> Answer:
        answer = await self._complete("summary", self.config.assistant.summary_prompt, conversation, day)
        answer.lines = answer.lines[:SUMMARY_LINES]
        return answer

    async def replies(self, conversation: str, scripts: list[str], day: str) -> Answer:
        listed = "\n".join(f"- {s}" for s in scripts) or "（本次对话未发现明确的客户顾虑）"
        prompt = self.config.assistant.reply_prompt.format(scripts=listed)
        answer = await self._complete("replies", prompt, conversation, day)
        answer.lines = answer.lines[:REPLY_DRAFTS]
        return answer

    async def _complete(self, kind: str, system: str, conversation: str, day: str) -> Answer:
        if not self.config.privacy.text_may_leave:
            raise ServiceError("not_allowed")
        if not await self.endpoint.budget.reserve(day, 1):
            raise ServiceError("budget")
        settings = self.endpoint.settings
        payload = {"model": settings.model, "temperature": 0.3, "max_tokens": 800, "stream": False,
                   "messages": [{"role": "system", "content": system},
                                {"role": "user", "content": self.outgoing(conversation)}]}
        started = time.perf_counter()
        tokens = 0
        ok = False
        try:
            response = await self.endpoint.post(PATH, json=payload)
            content, tokens = read_completion(response.content)
            lines = [line.strip() for line in content.splitlines() if line.strip()]
            if not lines:
                raise ServiceError("bad_response", "empty answer")
            ok = True
            return Answer(lines=lines, ms=(time.perf_counter() - started) * 1000, tokens=tokens)
        except BaseException:
            await self.endpoint.budget.release(day, 1)
            raise
        finally:
            ms = (time.perf_counter() - started) * 1000
            cost = tokens / 1000 * self.config.assistant.cost_per_1k
            log.info("assistant call kind=%s model=%s ok=%s ms=%.0f tokens=%d cost=%.4f",
                     kind, settings.model, ok, ms, tokens, cost)


def read_completion(body: bytes) -> tuple[str, int]:
    """(the first choice's text, total tokens) from a chat-completions answer."""
    try:
        payload = json.loads(body)
        content = payload["choices"][0]["message"]["content"]
    except (ValueError, UnicodeDecodeError, KeyError, IndexError, TypeError):
        raise ServiceError("bad_response", "not a chat completion") from None
    if not isinstance(content, str):
        raise ServiceError("bad_response", "no text")
    usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
    tokens = usage.get("total_tokens") or (usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0))
    # Reasoning models put their thinking in <think>…</think>; only the answer is for the rep.
    content = re.sub(r"<think>.*?</think>", "", content, flags=re.S)
    return content.strip(), int(tokens) if isinstance(tokens, (int, float)) else 0


def objection_scripts(analysis: Any, config: Config) -> list[str]:
    """The playbook's scripts for the objections the analysis found (the grounding of the drafts)."""
    scripts: list[str] = []
    for objection in getattr(analysis, "objections", [])[:REPLY_DRAFTS]:
        script = config.objections[objection.id].script if objection.id in config.objections else objection.script
        if script and script not in scripts:
            scripts.append(script)
    return scripts


def offline_summary(analysis: Any, lang: str) -> dict[str, str]:
    """The five lines from the offline analysis alone (values for the offline_summary text)."""
    en = lang == "en"
    objections = "、".join(o.label_en if en else o.label_zh for o in analysis.objections[:4])
    needs = "、".join(r.label or r.phrase for r in analysis.reasons if r.effect > 0 and (r.label or r.phrase))
    return {"needs": needs[:200], "objections": objections, "level": analysis.level if en else analysis.level_zh,
            "score": str(analysis.score), "keywords": "、".join(analysis.keywords[:6]),
            "next": getattr(analysis, "next_step", "") or ""}


def offline_replies(analysis: Any, config: Config) -> list[str]:
    return objection_scripts(analysis, config)
