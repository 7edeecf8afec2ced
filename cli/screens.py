"""`make demo`'s screenshot set: the main screens in Chinese and English, side by side in demo-out/.

Each screen is what the real bot sent through the local Bot API server: the message text as a
plain-text rendering (``zh-card.txt``) with its button rows, the chart PNGs as sent (``en-radar.png``),
and ``index.html`` showing both languages next to each other (no browser is needed to make it).
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from cli.sandbox import Sandbox, buttons

SCREENS = ("brief", "card", "digest", "board", "radar")
TITLES = {"brief": "早间任务 · Morning brief", "card": "客户任务卡 · Customer card", "digest": "经理日报 · Manager digest",
          "board": "排行榜 · Leaderboard", "radar": "能力画像 · Ability profile"}


def render_text(message: dict) -> str:
    """A message as plain text with its keyboard, one line per button row."""
    body = message.get("text") or message.get("caption") or ""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    keyboard = "\n".join(" ".join(f"[{b.get('text', '')}]" for b in row) for row in rows)
    return body + ("\n\n" + keyboard if keyboard else "") + "\n"


async def capture(sb: Sandbox, out_dir: Path, people: dict[str, tuple[dict, dict]]) -> list[Path]:
    """``people``: language → (a rep, a manager). Returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    shots: dict[str, dict[str, dict[str, Any]]] = {}
    for lang, (rep, manager) in people.items():
        got: dict[str, dict[str, Any]] = {}
        brief = (await sb.send(rep, "/today"))[-1]
        got["brief"] = {"message": brief}
        listing = brief if buttons(brief) else (await sb.send(rep, "/customers"))[-1]  # nothing due: the list
        if buttons(listing):
            card = (await sb.press(rep, listing, data=buttons(listing)[0]["callback_data"]))[-1]
            got["card"] = {"message": card}
        digest = await sb.send(manager, "/digest")
        text = [m for m in digest if m.get("kind") != "photo"]
        photo = [m for m in digest if m.get("kind") == "photo"]
        if text:
            got["digest"] = {"message": text[-1], "png": sb.tg.file_bytes(photo[-1]) if photo else None}
        for screen, command in (("board", "/board"), ("radar", "/me")):
            sent = [m for m in await sb.send(rep, command) if m.get("kind") == "photo"]
            if sent:
                got[screen] = {"message": sent[-1], "png": sb.tg.file_bytes(sent[-1])}
        shots[lang] = got
    written = []
    for lang, got in shots.items():
        for screen, shot in got.items():
            path = out_dir / f"{lang}-{screen}.txt"
            path.write_text(render_text(shot["message"]), encoding="utf-8")
            written.append(path)
            if shot.get("png"):
                png = out_dir / f"{lang}-{screen}.png"
                png.write_bytes(shot["png"])
                written.append(png)
    index = out_dir / "index.html"
    index.write_text(_index(shots), encoding="utf-8")
    written.append(index)
    return written


def _bubble(shot: dict[str, Any] | None, lang: str, screen: str) -> str:
    if shot is None:
        return "<td class=missing>—</td>"
    message = shot["message"]
    body = html.escape(message.get("text") or message.get("caption") or "")
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    keyboard = "".join("<div class=row>" + "".join(f"<span>{html.escape(b.get('text', ''))}</span>" for b in row)
                       + "</div>" for row in rows)
    image = f"<img src='{lang}-{screen}.png' alt='{screen}'>" if shot.get("png") else ""
    return f"<td><div class=bubble>{image}<pre>{body}</pre></div>{keyboard}</td>"


def _index(shots: dict[str, dict[str, dict[str, Any]]]) -> str:
    langs = list(shots)
    head = "".join(f"<th>{lang}</th>" for lang in langs)
    rows = "".join(f"<tr><th>{html.escape(TITLES[s])}</th>" + "".join(_bubble(shots[lang].get(s), lang, s) for lang in langs)
                   + "</tr>" for s in SCREENS)
    return ("<!doctype html><meta charset=utf-8><title>salesbot screens</title><style>"
            "body{font-family:sans-serif;background:#e6ebee}td,th{vertical-align:top;padding:8px}"
            ".bubble{background:#fff;border-radius:12px;padding:8px 12px;max-width:460px}"
            "pre{white-space:pre-wrap;font-family:inherit;margin:0}img{max-width:440px;display:block;margin-bottom:6px}"
            ".row{display:flex;gap:4px;margin-top:4px;max-width:484px}.row span{flex:1;background:#5b8fb9;color:#fff;"
            "border-radius:6px;padding:6px;text-align:center;font-size:13px;overflow:hidden;white-space:nowrap;"
            "text-overflow:ellipsis}</style>"
            f"<table><tr><th></th>{head}</tr>{rows}</table>")
