"""`salesbot doctor` lines for the optional speech service and chat model (docs/voice.md)."""
from __future__ import annotations

import os

import httpx

from services.resilience import ServiceSettings

SERVICES = (("SALESBOT_STT", "speech to text", "audio_may_leave", "voice notes get a one-line answer"),
            ("SALESBOT_LLM", "AI assistant", "text_may_leave", "analysis cards show no 总结 / 帮我回复"))


def check_services(config, env: dict[str, str] | None = None, timeout: float = 5.0) -> list[tuple[bool, str]]:
    """Configured or not, allowed by the playbook or not, and reachable (any HTTP answer counts)."""
    env = os.environ if env is None else env
    out: list[tuple[bool, str]] = []
    for prefix, label, switch, without in SERVICES:
        settings = ServiceSettings.from_env(prefix, "", env)
        if settings is None:
            out.append((True, f"{label}: not configured ({prefix}_URL unset) — {without}"))
            continue
        allowed = bool(config and getattr(config.privacy, switch))
        headers = {"Authorization": f"Bearer {settings.key}"} if settings.key else {}
        try:
            status = httpx.get(f"{settings.url}/v1/models", headers=headers, timeout=timeout).status_code
        except httpx.HTTPError as exc:
            out.append((False, f"{label}: cannot reach {settings.url} ({type(exc).__name__})"))
            continue
        if status in (401, 403):
            out.append((False, f"{label}: {settings.url} refuses the key ({prefix}_KEY): HTTP {status}"))
        elif not allowed:
            out.append((True, f"{label}: {settings.url} answers, but the playbook keeps data home "
                              f"([privacy] {switch} = false) — {without}"))
        else:
            out.append((True, f"{label}: {settings.url} answers (model {settings.model or 'default'})"))
    return out
