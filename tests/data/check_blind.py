"""Validate tests/data/nlp_blind.jsonl and print its mix.

Run: python tests/data/check_blind.py [path]
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

INTENTS = {"high", "medium", "low", "none"}
KINDS = {"sales", "complaint", "service", "job", "chitchat", "spam"}
OBJECTIONS = {"price", "budget", "timing", "need_approval", "competitor",
              "has_supplier", "trust_quality", "no_need"}
FORMATS = {"wechat", "colon", "telegram_forward", "forward_inline", "call_notes", "voice"}
PUNCT = re.compile(r"[，。！？、；：,.!?;:\"'“”‘’（）()【】\[\]《》…—~～]")


def count_turns(r):
    text, fmt = r["text"], r["format"]
    if fmt == "wechat":
        return len(re.findall(r"^.+ (\d{4}[/-]\d\d[/-]\d\d )?\d\d:\d\d(:\d\d)?$", text, re.M))
    if fmt == "telegram_forward":
        return len(re.findall(r"^.+, \[\d\d\.\d\d\.\d{4} \d\d:\d\d\]$", text, re.M))
    return len(text.splitlines())


def check(path):
    recs, errors, ids = [], [], set()
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"line {n}: bad json {e}")
            continue
        rid = r.get("id")
        if rid in ids:
            errors.append(f"line {n}: duplicate id {rid}")
        ids.add(rid)
        for key in ("trade", "format", "intent", "kind", "objections", "rep", "customer", "text"):
            if key not in r:
                errors.append(f"{rid}: missing {key}")
        if r.get("intent") not in INTENTS:
            errors.append(f"{rid}: intent {r.get('intent')}")
        if r.get("kind") not in KINDS:
            errors.append(f"{rid}: kind {r.get('kind')}")
        if r.get("format") not in FORMATS:
            errors.append(f"{rid}: format {r.get('format')}")
        if (r.get("kind") == "sales") == (r.get("intent") == "none"):
            errors.append(f"{rid}: intent none iff kind != sales")
        bad = set(r.get("objections", [])) - OBJECTIONS
        if bad:
            errors.append(f"{rid}: objections {bad}")
        if r.get("kind") != "sales" and r.get("objections"):
            errors.append(f"{rid}: objections on a non-sales chat")
        text = r.get("text", "")
        fmt = r.get("format")
        if fmt == "voice" and PUNCT.search(text):
            errors.append(f"{rid}: punctuation in voice text: {PUNCT.search(text).group()}")
        if fmt == "forward_inline" and not all(l.startswith("[Forwarded from ") for l in text.splitlines()):
            errors.append(f"{rid}: forward_inline line without prefix")
        if fmt == "telegram_forward" and not re.search(r"^.+, \[\d\d\.\d\d\.\d{4} \d\d:\d\d\]$", text, re.M):
            errors.append(f"{rid}: telegram_forward header missing")
        if r.get("rep") and fmt not in ("call_notes", "voice") and r["rep"] not in text:
            errors.append(f"{rid}: rep name not in text")
        if fmt not in ("call_notes", "voice") and r.get("customer") not in text:
            errors.append(f"{rid}: customer name not in text")
        recs.append(r)
    return recs, errors


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("nlp_blind.jsonl")
    recs, errors = check(path)
    for e in errors:
        print("ERROR", e)
    print("records:", len(recs))
    for field in ("kind", "intent", "format", "trade"):
        print(f"{field}:", dict(Counter(r[field] for r in recs).most_common()))
    print("objections:", dict(Counter(o for r in recs for o in r["objections"]).most_common()))
    tags = Counter(t for r in recs for t in r.get("tags", []))
    print("tags:", dict(tags.most_common()))
    print("hard (tag):", tags["hard"], " with note:", sum(1 for r in recs if r.get("note")))
    sales = [r for r in recs if r["kind"] == "sales"]
    print("sales:", len(sales), f"not sales: {len(recs) - len(sales)} ({(len(recs) - len(sales)) / max(len(recs), 1):.0%})")
    turns = [count_turns(r) for r in recs if r["format"] not in ("call_notes", "voice")]
    print("turns per chat (speaker blocks): min", min(turns), "max", max(turns),
          "median", sorted(turns)[len(turns) // 2])
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
