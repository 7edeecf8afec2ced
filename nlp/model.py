"""The trained model beside the lexicon: character n-grams of the customer's words plus the
lexicon's structured reading, fed to logistic regressions trained by `salesbot nlp train`
(nlp/train.py, scikit-learn, dev extra only).

What ships is plain data, nlp/data/model.json (vocabulary, feature names, blend) and
nlp/data/model.npz (weight matrices), loaded once; inference here is numpy only.

* intent: one multinomial regression over high / medium / low / none (not sales).
* The blend is a bounded correction of the lexicon score, not a replacement:
  `s = lexicon + λ·clip(E_model − lexicon, ±δ)` where E_model is the model's expected score on
  the lexicon's scale (high 85, medium 50, low/none 10). λ and δ are chosen by grouped
  cross-validation (by trade, the hand-written chats a group of their own, both kinds weighed
  equally), so the model moves a chat only as far as it helped on chats it had not seen;
  λ = 0 is the lexicon alone. The level follows s with the lexicon's bands (65 / 35).
  The score shown is calibrated: 100 × P(high) = 100·sigmoid(k·(s − 65)/10), k fitted on the
  same out-of-fold predictions (so "high" is exactly score ≥ 50); a medium chat shows at
  least 35 and a low one at most 34, as before.
* objections: one binary regression per objection id over the whole customer text, mixed 1:1
  with the clause head's best clause (nlp/clause_head.py) when the model file has one. The
  lexicon's objections stay (they carry the quote) unless the model is sure they are wrong
  (p < drop_below); the model adds one the lexicon missed when p ≥ add_above (per objection:
  obj_add), quoting the clause head's best clause (or the clause whose n-grams weigh most).

The lexicon keeps producing the reasons; its score is one of the model's inputs.

Why not a free stacker: the generated corpus is labelled by its generator's conventions and
says the same ~150 sentences in many chats; a model trained on it is over-sure on hand-written
chats (P ≈ 1.00 for the wrong class) and a blend that trusts it loses to the lexicon there.
"""
from __future__ import annotations

import json
import math
import re
import threading
from collections import Counter
from operator import add
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from nlp import clause_head
from nlp.grams import sublinear as _sublinear, text_keys, vocab_keys
from nlp.kinds import kind_features, looks_broadcast
from nlp.reading import QUESTION as _QUESTION, Objection, short as _short

DATA_DIR = Path(__file__).parent / "data"
CLASSES = ("high", "medium", "low", "none")
KINDS = ("sales", "complaint", "service", "job", "spam", "chitchat", "one_sided")
# The kind head: one multinomial regression over what the text is (sales or one of the families
# that are not sales); P(not sales) = 1 − P(sales) decides with thresholds chosen out-of-fold.
KIND_HEAD = ("sales", "complaint", "service", "job", "spam", "chitchat")
NGRAM_SIZES = (1, 2, 3)      # ngrams() counts exactly these three sizes
# A very long paste: the n-grams of its last part decide (the lexicon reads all of it).
MAX_MODEL_CHARS = 6000
LOGIT_CLIP = 2.0
# The model's expected score on the lexicon's scale, per class (high, medium, low, none).
CLASS_SCORES = (85.0, 50.0, 10.0, 10.0)
HIGH_MIN, MEDIUM_MIN = 65, 35          # the lexicon's bands (nlp/data/lexicon.toml)
# The lexicon's structured reading carries what transfers to new wording; scaled up, the
# regression leans on it rather than on the n-grams of the corpus' phrasing (L2 penalty).
STRUCTURED_SCALE = 3.0

_SPLIT = re.compile(r"[。！？!?；;\n，,]+")
_SPACE = re.compile(r"\s+")


@dataclass
class Features:
    """The model's input. Serving reads the n-grams the vocabulary knows straight from `text`
    (Model.vector); the full Counter and the clauses are built only when asked for (training,
    analyze(_features_out=), quoting an objection the model found)."""
    _ngrams: Counter | None   # n-gram → count (customer text); None: counted from text on access
    structured: dict[str, float]
    _clauses: list[str] | None   # customer clauses (for quoting a model-found objection)
    text: str = ""            # the customer text both come from
    # The whole chat carries an ad's marks (nlp/kinds.py looks_broadcast): without them the kind
    # head's "spam" counts as "sales" (Model.predict_all), in training and serving alike.
    broadcast: bool = False
    # (the model, the clause head's best probability and best unit per objection): once per chat and
    # model (Model._clause_best)
    _clause_best: object = field(default=None, init=False, repr=False, compare=False)

    @property
    def ngrams(self) -> Counter:
        if self._ngrams is None:
            self._ngrams = ngrams(self.text)
        return self._ngrams

    @property
    def clauses(self) -> list[str]:
        if self._clauses is None:
            self._clauses = [c.strip() for c in _SPLIT.split(self.text[-MAX_MODEL_CHARS:]) if c.strip()]
        return self._clauses


def customer_text(views, customer_views) -> str:
    side = customer_views or [v for v in views if v.turn.role != "rep"]
    return "\n".join(v.text for v in side)


def _model_text(text: str) -> str:
    return _SPACE.sub(" ", text.lower())[-MAX_MODEL_CHARS:]


def ngrams(text: str) -> Counter:
    text = _model_text(text)
    # 1-, 2- and 3-grams (NGRAM_SIZES) counted by C-level map/add instead of a slice per position
    counts: Counter = Counter(text)
    pairs = list(map(add, text, text[1:]))
    counts.update(pairs)
    counts.update(map(add, pairs, text[2:]))
    counts.pop(" ", None)
    return counts


def featurize(transcript, views, customer_views, contributions, lexicon_score: int, kind: str) -> Features:

    text = customer_text(views, customer_views)
    broadcast = looks_broadcast("\n".join(v.text for v in views))
    s: dict[str, float] = {
        "lex_score": lexicon_score / 100.0,
        "lex_high": float(lexicon_score >= 65),
        "lex_low": float(lexicon_score < 35),
        "turns_log": math.log1p(len(transcript.turns)),
        "customer_turns_log": math.log1p(len(customer_views)),
        "customer_share": len(customer_views) / max(1, len(transcript.turns)),
        "no_customer": float(not customer_views),
        "speakers_one": float(len(transcript.speakers) <= 1),
        "questions": min(3, sum(1 for v in customer_views if _QUESTION.search(v.text))) / 3,
        "complaint_turns": min(3, sum(1 for v in customer_views if v.service == "complaint")) / 3,
        "service_turns": min(3, sum(1 for v in customer_views if v.service == "service")) / 3,
        "kind_" + kind: 1.0,
        "format_" + transcript.format: 1.0,
        **kind_features(views, customer_views),
        "ks_ad_marks": float(broadcast),
    }
    for c in contributions:
        if c.key in ("questions", "share", "unanswered", "speed", "minimal", "short", "floor"):
            s["eng_" + c.key] = s.get("eng_" + c.key, 0.0) + c.effect / 10.0
    for v in customer_views:
        for h in v.hits:
            key = "hit_" + h.entry.id
            s[key] = min(3.0, s.get(key, 0.0) + 1.0)
            if h.negated:
                s["neg_" + h.entry.id] = 1.0
    return Features(None, s, None, text, broadcast)


# ------------------------------------------------------------------------ the model
@dataclass
class Model:
    vocab: dict[str, int]
    structured: dict[str, int]      # structured feature name → column
    intent_w: "object"              # numpy (n_features, 4)
    intent_b: "object"              # (4,)
    obj_ids: list[str]
    obj_w: "object"                 # (n_features, n_obj)
    obj_b: "object"                 # (n_obj,)
    platt: tuple[float, ...]        # P(high) = sigmoid(a·logit(p_model) + c·lexicon_input + b)
    add_above: float
    drop_below: float
    none_above: float
    info: dict
    lam: float = 0.0                # blend: how far the model's view moves the lexicon score
    delta: float = 0.0              # … at most this many points
    slope: float = 1.5              # calibration of P(high) on the blended score
    # The kind head (absent in a model trained before it: then the rules alone say the kind).
    kind_w: "object" = None         # (n_features, len(KIND_HEAD))
    kind_b: "object" = None
    kind_not: float = 1.01          # P(not sales) ≥ this: not a sales conversation (say what it is)
    kind_cap: float = 1.01          # P(not sales) ≥ this: never "high" (at most medium)
    kind_keep: float = -1.0         # the rules say not-sales but P(not sales) < this: a sales chat
    # Per-objection thresholds chosen out-of-fold by writer (absent: add_above / drop_below for all).
    obj_add: dict = None            # objection id → add it when p ≥ this though the lexicon missed it
    obj_drop: dict = None           # objection id → drop the lexicon's when p < this
    # The clause head (nlp/clause_head.py; absent in a model trained before it: the chat heads alone):
    # n-gram vocabulary × objections, and a bias per objection. An objection's probability is then
    # the mean of the chat head's and the best clause's.
    clause_w: "object" = None
    clause_b: "object" = None
    _gram_keys: "object" = field(default=None, init=False, repr=False, compare=False)

    @property
    def gram_keys(self):
        """(sorted n-gram keys, their vocabulary columns), built on first use (nlp/grams.py)."""
        if self._gram_keys is None:
            self._gram_keys = vocab_keys(self.vocab)
        return self._gram_keys

    def _known_grams(self, f: Features):
        """(vocabulary columns, counts) of the n-grams of f that the vocabulary knows, as numpy
        arrays: the same counts as f.ngrams, found without building a string per position (each
        n-gram is one integer key, see nlp/grams.py)."""
        import numpy as np

        if f._ngrams is not None:                  # already counted (training): read them
            grams, vocab = f._ngrams, self.vocab
            known = grams.keys() & vocab.keys()
            return (np.asarray([vocab[g] for g in known], dtype=np.int64),
                    np.asarray([grams[g] for g in known], dtype=np.int64))
        vkeys, vcols = self.gram_keys
        text = _model_text(f.text)
        if not text or not len(vkeys):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        keys, _ = text_keys(text)
        at = np.searchsorted(vkeys, keys)
        np.minimum(at, len(vkeys) - 1, out=at)
        at = at[vkeys[at] == keys]                 # the positions whose n-gram is known
        counts = np.bincount(at)
        known = np.flatnonzero(counts)
        return vcols[known], counts[known]

    def vector(self, f: Features):
        """Sparse input as (column indices, values): tf-idf-free, sublinear and L2-normalised
        n-grams next to the structured features (as the trainer builds them)."""
        import numpy as np

        cols, counts = self._known_grams(f)
        vals = _sublinear(counts)                  # 1 + log(count), as math.log gives it
        if len(vals):
            vals = vals / math.sqrt(float(vals @ vals))
        more_cols, more_vals = [], []
        for name, value in f.structured.items():
            j = self.structured.get(name)
            if j is not None and value:
                more_cols.append(j)
                more_vals.append(value * STRUCTURED_SCALE)
        return (np.concatenate((cols, np.asarray(more_cols, dtype=np.int64))),
                np.concatenate((vals, np.asarray(more_vals, dtype=np.float64))))

    def predict(self, f: Features) -> tuple[dict[str, float], dict[str, float]]:
        return self.predict_all(f)[:2]

    def predict_all(self, f: Features) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
        """Intent probabilities, objection probabilities and kind probabilities (empty without
        a kind head). A chat without an ad's marks is no ad: the head's "spam" counts as "sales"
        (a rep's quote refused in two lines is a sales chat gone cold), here so that the kind
        thresholds are chosen on the probabilities serving uses."""
        import numpy as np

        cols, vals = self.vector(f)
        kinds: dict[str, float] = {}
        if self.kind_w is not None:
            z = self.kind_b + vals @ self.kind_w[cols]
            pk = np.exp(z - z.max())
            pk /= pk.sum()
            kinds = dict(zip(KIND_HEAD, (float(p) for p in pk)))
            if not f.broadcast:
                kinds["sales"] += kinds["spam"]
                kinds["spam"] = 0.0
        logits = self.intent_b + vals @ self.intent_w[cols]
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        intent = dict(zip(CLASSES, (float(p) for p in probs)))
        obj_logits = self.obj_b + vals @ self.obj_w[cols]
        objections = {oid: 1.0 / (1.0 + math.exp(-float(z))) for oid, z in zip(self.obj_ids, obj_logits)}
        if self.clause_w is not None:
            best, _ = self._clause_best(f)
            objections = {oid: (p + float(q)) / 2.0 for (oid, p), q in zip(objections.items(), best)}
        return intent, objections, kinds

    def _clause_best(self, f: Features):
        if f._clause_best is None or f._clause_best[0] is not self:     # another model's (training)
            f._clause_best = (self, clause_head.best_clause_probs(clause_head.units(f.clauses), *self.gram_keys,
                                                                  self.clause_w, self.clause_b))
        return f._clause_best[1]

    def _best_unit(self, oid: str, f: Features) -> int:
        """Index of the customer clause the clause head reads oid in most (−1: no clause head or
        no clause)."""
        if self.clause_w is None or not f.clauses:
            return -1
        _, best = self._clause_best(f)
        return int(best[self.obj_ids.index(oid)])

    def best_clause(self, oid: str, f: Features) -> str | None:
        """The customer clause the clause head reads oid in most (None without a clause head)."""
        j = self._best_unit(oid, f)
        return f.clauses[j] if j >= 0 else None

    def quote_for(self, oid: str, f: Features) -> str:
        """The customer's words an objection the model found stands on: the clause head's best
        unit (a clause with the one before it), else the clause whose n-grams weigh most."""
        j = self._best_unit(oid, f)
        if j >= 0:
            return "，".join(f.clauses[max(0, j - 1):j + 1])
        return max(f.clauses, key=lambda c: self.clause_score(oid, c))

    def blended(self, probs: Mapping[str, float], lexicon_score: float) -> float:
        """The lexicon score moved toward the model's expected score, by at most δ points."""
        expected = sum(probs[c] * v for c, v in zip(CLASSES, CLASS_SCORES))
        return lexicon_score + self.lam * max(-self.delta, min(self.delta, expected - lexicon_score))

    def p_high(self, blended_score: float) -> float:
        z = self.slope * (blended_score - HIGH_MIN) / 10.0
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def calibrated_high(self, p_high: float, lexicon_score: float) -> float:
        """P(high) for a chat the model gives p_high (other classes in proportion)."""
        rest = (1.0 - p_high) / 3.0
        probs = {"high": p_high, "medium": rest, "low": rest, "none": rest}
        return self.p_high(self.blended(probs, lexicon_score))

    def clause_score(self, oid: str, clause: str) -> float:
        k = self.obj_ids.index(oid)
        total = 0.0
        for gram in ngrams(clause):
            j = self.vocab.get(gram)
            if j is not None:
                total += float(self.obj_w[j, k])
        return total


def lexicon_input(score01: float) -> float:
    """The lexicon score (0-1) as a blend input: centred on the high band's edge, in tenths."""
    return (score01 - 0.65) * 10.0


_lock = threading.Lock()
_loaded: dict[str, Model | None] = {}


def load(data_dir: Path | None = None) -> Model | None:
    """The shipped model, or None when no model file exists (the lexicon then decides)."""
    key = str(data_dir or DATA_DIR)
    if key in _loaded:
        return _loaded[key]
    with _lock:
        if key not in _loaded:
            _loaded[key] = _read(Path(key))
    return _loaded[key]


def _read(directory: Path) -> Model | None:
    meta_path, weights_path = directory / "model.json", directory / "model.npz"
    if not meta_path.exists() or not weights_path.exists():
        return None
    import numpy as np

    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    w = np.load(weights_path)
    vocab = {g: i for i, g in enumerate(meta["vocab"])}
    offset = len(vocab)
    structured = {name: offset + i for i, name in enumerate(meta["structured"])}
    blend_params = meta.get("blend", {})
    kind = meta.get("kind", {})
    has_kind = "kind_w" in w.files
    has_clause = "clause_w" in w.files
    return Model(vocab, structured, w["intent_w"].astype(np.float64), w["intent_b"].astype(np.float64),
                 list(meta["objections"]), w["obj_w"].astype(np.float64), w["obj_b"].astype(np.float64),
                 tuple(meta["platt"]), float(meta["add_above"]), float(meta["drop_below"]),
                 float(meta["none_above"]), meta.get("info", {}),
                 lam=float(blend_params.get("lam", 0.0)), delta=float(blend_params.get("delta", 0.0)),
                 slope=float(blend_params.get("slope", 1.5)),
                 kind_w=w["kind_w"].astype(np.float64) if has_kind else None,
                 kind_b=w["kind_b"].astype(np.float64) if has_kind else None,
                 kind_not=float(kind.get("not", 1.01)), kind_cap=float(kind.get("cap", 1.01)),
                 kind_keep=float(kind.get("keep", -1.0)),
                 obj_add=dict(meta.get("objection_add", {})), obj_drop=dict(meta.get("objection_drop", {})),
                 clause_w=w["clause_w"].astype(np.float64) if has_clause else None,
                 clause_b=w["clause_b"].astype(np.float64) if has_clause else None)


def unload() -> None:
    with _lock:
        _loaded.clear()


# -------------------------------------------------------------------------- serving
@dataclass
class Blend:
    score: int
    p_high: float
    kind: str
    probs: dict[str, float]
    objections: dict[str, float]
    features: Features | None = None   # the model's input, for analyze(_features_out=) without a second pass

    @property
    def clauses(self) -> list[str]:
        """The customer clauses, split only when an objection the model found needs a quote."""
        return self.features.clauses if self.features is not None else []


_enabled = True


def set_enabled(on: bool) -> None:
    """Off: analyze() reports the lexicon alone (for the baseline in `nlp eval`)."""
    global _enabled
    _enabled = on


def blend(transcript, views, customer_views, contributions, lexicon_score: int, kind: str,
          service_on_existing: bool = False) -> Blend | None:
    """The model's reading beside the lexicon's. service_on_existing: the customer asks for
    service on what they already bought and takes no step toward a new purchase
    (nlp/service.py): a sales chat so read is never "high", whatever its quotes and invoices."""
    model = load() if _enabled else None
    if model is None:
        return None
    f = featurize(transcript, views, customer_views, contributions, lexicon_score, kind)
    intent, objections, kinds = model.predict_all(f)
    s = model.blended(intent, lexicon_score)
    heard = any(h.entry.weight or h.entry.is_objection for v in customer_views for h in v.hits)
    if kind == "sales" and intent["none"] >= model.none_above and not heard:
        kind = "other"      # the model alone says "not sales" only where the lexicon heard nothing
    kind, capped = decide_kind(kind, kinds, model.kind_not, model.kind_cap, model.kind_keep)
    if capped or (kind == "sales" and service_on_existing):
        # maybe not a sales chat at all, or service on what the customer already has: never "high"
        s = min(s, HIGH_MIN - 0.5)
    p_high = model.p_high(s)
    return Blend(score=_to_score(p_high, s), p_high=p_high, kind=kind, probs=intent,
                 objections=objections, features=f)


def decide_kind(rule_kind: str, kinds: Mapping[str, float], not_above: float, cap_above: float,
                keep_below: float) -> tuple[str, bool]:
    """The text's kind from the rules' reading and the kind head's probabilities, and whether
    its score must stay below "high". With P(not sales) ≥ not_above a chat the rules read as
    sales is named by the head's most likely family; ≥ cap_above it stays a sales chat but is
    never "high"; a chat the rules read as not sales is a sales chat when P(not sales) <
    keep_below. Without a kind head the rules decide alone."""
    if not kinds:
        return rule_kind, False
    p_not = 1.0 - kinds["sales"]
    if rule_kind == "sales":
        if p_not >= not_above:
            return max((k for k in KIND_HEAD if k != "sales"), key=lambda k: kinds[k]), False
        return "sales", p_not >= cap_above
    if p_not < keep_below:
        return "sales", p_not >= cap_above
    return rule_kind, False


def level_of(blended_score: float) -> str:
    return "high" if blended_score >= HIGH_MIN else "medium" if blended_score >= MEDIUM_MIN else "low"


def _to_score(p_high: float, blended_score: float) -> int:
    """Score = 100 × calibrated P(high); the level follows the blended score's bands, so a
    medium chat shows at least 35 and a low one at most 34 (high is exactly P(high) ≥ ½)."""
    score = 100.0 * p_high
    level = level_of(blended_score)
    if level == "medium":
        score = min(max(score, 35.0), 49.0)
    elif level == "low":
        score = min(score, 34.0)
    else:
        score = max(score, 50.0)
    return int(round(min(100.0, max(0.0, score))))


def merge_objections(lexicon_found: list, blended: Blend, customer_views, defaults: Mapping[str, str],
                     scripts: Mapping[str, str] | None, settled: frozenset[str] | set[str] = frozenset()) -> list:
    """The lexicon's objections, and those a head is sure of that the lexicon missed — never one the
    customer settled later in the chat (nlp/settled.py), nor one the head reads in the very turn where
    a clause reader re-read that objection's words as no such objection (TurnView.ruled_out:
    "比我们其他供应商贵" is a price remark, not a rival); a rival named in another turn still counts."""
    model = load()
    add, drop = model.obj_add or {}, model.obj_drop or {}
    kept = [o for o in lexicon_found if blended.objections.get(o.id, 1.0) >= drop.get(o.id, model.drop_below)]
    have = {o.id for o in kept}
    entries = _entries()
    for oid, p in sorted(blended.objections.items(), key=lambda kv: -kv[1]):
        if oid in have or oid in settled or p < add.get(oid, model.add_above) or not blended.clauses \
                or oid not in entries or _ruled_out_where_read(model, oid, blended.features, customer_views):
            continue
        quote = model.quote_for(oid, blended.features)
        entry = entries[oid]
        script = (scripts or {}).get(oid) or defaults.get(oid, "")
        kept.append(Objection(oid, entry.label_zh, entry.label_en, _short(quote), script))
    return kept


def _ruled_out_where_read(model: Model, oid: str, f: Features, customer_views) -> bool:
    """The head's best clause for oid lies in a customer turn whose clause reader ruled oid out
    (without a clause head: any such turn)."""
    ruled = [v for v in customer_views if oid in v.ruled_out]
    if not ruled:
        return False
    clause = model.best_clause(oid, f)
    return clause is None or any(clause in v.text for v in ruled)


def _entries():
    from nlp import engine

    return engine.resources().lexicon.entries
