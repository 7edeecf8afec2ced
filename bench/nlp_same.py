"""Same answers before and after a speed change to nlp/: run analyze() over every chat of
nlp/data/corpus.jsonl, nlp/data/written.jsonl and tests/data/nlp_dev.jsonl (model on and
model off) and write or compare what it says.

    python -m bench.nlp_same --save before.json     # on the unchanged code
    python -m bench.nlp_same --check before.json    # after: exit 1 and list the chats that differ

Compared per chat: score, level, kind, reasons, objections (the brief's fields) and also
keywords, lexicon_score, probability, turns and the model's input features (stricter).
"""
from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "nlp/data/corpus.jsonl", ROOT / "nlp/data/written.jsonl", ROOT / "tests/data/nlp_dev.jsonl"]
NOW = datetime(2026, 1, 15, 12, 0)          # "昨天 10:21"-style stamps read the same every run
STRICT = ("score", "level", "kind", "reasons", "objections")


def _records():
    for path in FILES:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if line.strip():
                record = json.loads(line)
                yield f"{path.name}:{record.get('id', n)}", record


def _features(out: list) -> object:
    if not out:
        return None
    f = out[0]
    parts = {}
    for name in ("ngrams", "structured", "clauses"):
        value = getattr(f, name, None)
        if value is None:
            continue
        if isinstance(value, dict):
            parts[name] = sorted((str(k), repr(v)) for k, v in value.items())
        else:
            parts[name] = repr(value)
    return parts or repr(f)


def snapshot() -> dict:
    from nlp import engine, model
    from nlp.analyze import analyze
    from nlp.train import call_args

    engine.warm_up()
    result: dict = {}
    for enabled in (True, False):
        model.set_enabled(enabled)
        for key, record in _records():
            out: list = []
            a = analyze(record["text"], **call_args(record), now=NOW, _features_out=out)
            result[f"{'model' if enabled else 'rules'}|{key}"] = {
                "score": a.score, "level": a.level, "kind": a.kind,
                "reasons": [[r.phrase, r.effect, r.quote, r.label] for r in a.reasons],
                "objections": [[o.id, o.label_zh, o.label_en, o.quote, o.script] for o in a.objections],
                "keywords": a.keywords, "lexicon_score": a.lexicon_score,
                "probability": a.probability, "turns": a.turns, "customer_turns": a.customer_turns,
                "is_conversation": a.is_conversation, "format": a.format, "note": a.note,
                "features": _features(out),
            }
    model.set_enabled(True)
    return result


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2 or args[0] not in ("--save", "--check"):
        print(__doc__)
        return 2
    now = snapshot()
    path = Path(args[1])
    if args[0] == "--save":
        path.write_text(json.dumps(now, ensure_ascii=False, indent=0), encoding="utf-8")
        print(f"chats: {len(now)}")
        return 0
    before = json.loads(path.read_text(encoding="utf-8"))
    now = json.loads(json.dumps(now, ensure_ascii=False))      # same tuple→list as the saved side
    strict_diff = [k for k in before if k not in now or any(before[k][f] != now[k][f] for f in STRICT)]
    other_diff = [k for k in before if k in now and k not in strict_diff and before[k] != now[k]]
    for k in (strict_diff + other_diff)[:20]:
        fields = [f for f in before[k] if before[k][f] != now.get(k, {}).get(f)]
        print(f"differs: {k} {fields}")
    print(f"chats: {len(before)}")
    print(f"differ_score_level_kind_reasons_objections: {len(strict_diff)}")
    print(f"differ_other_fields: {len(other_diff)}")
    return 1 if strict_diff or other_diff or len(now) != len(before) else 0


if __name__ == "__main__":
    raise SystemExit(main())
