"""Finding a customer by what a rep types: exact and fuzzy name and company matches among the
customers the rep may see."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text as sql_text
from sqlmodel import Session, select

from services.company_names import company_core, similarity
from storage.models import Customer, User


def find_by_name(session: Session, user: User, text: str, limit: int = 5) -> list[Customer]:
    """Customers of this user whose name or company appears in ``text`` (fuzzy on the first word).

    Runs on every free-text line and paste, so the database picks the candidates
    (``name_candidates``: no cap on how many customers a user has, and only possible hits come
    back) and full records are loaded only for the hits.
    """
    scorer = name_scorer(text)
    hits: list[tuple[float, int]] = []
    for cid, name, company, company_norm in name_candidates(session, user, text):
        score = scorer(name, company, company_norm)
        if score >= 0.6:
            hits.append((score, cid))
    hits.sort(key=lambda pair: (-pair[0], pair[1]))
    if hits and hits[0][0] >= 1.0:
        top = hits[0][0]
        # Ambiguity only among equally long exact mentions (张总 vs 张总 at two companies).
        chosen = [cid for score, cid in hits if score >= top][:limit]
    else:
        chosen = [cid for _, cid in hits[:limit]]
    by_id = {c.id: c for c in session.exec(select(Customer).where(Customer.id.in_(chosen)))} if chosen else {}
    return [by_id[cid] for cid in chosen if cid in by_id]


def name_scorer(text: str):
    """How well a customer (name, company, company core) matches ``text``: 1.0+ when the name or
    company is in the text (longer is better), else the similarity of the first word; ≥ 0.6 is a hit."""
    first_word = text.strip().split()[0] if text.strip() else ""
    first_lower = first_word.lower()
    first_core = company_core(first_word) or "" if first_word else ""

    def score(name: str, company: str | None, company_norm: str | None) -> float:
        best = 0.0
        for label in (name, company or ""):
            if label and len(label) >= 2 and label in text:
                best = max(best, 1.0 + len(label) / 100)
        if best == 0.0 and first_word:
            best = max(similarity(first_lower, name.lower()), similarity(first_core, company_norm or "") * 0.95)
        return best
    return score


# Bigram Dice ≥ 0.6 between the first word (a bigrams) and a name (b ≤ len - 1 bigrams) needs a
# shared bigram and b ≥ 0.6·a / 1.4 (since shared ≤ b); 0.42 keeps a margin for float rounding.
_MIN_NAME_SHARE = 0.42
# Who sees what (visible_query), as SQL over the customer table.
_VISIBLE_SQL = {"admin": "1 = 1", "manager": "team_id = :team_id", "rep": "owner_id = :user_id AND team_id = :team_id"}  # as visible_query
# Any of the first word's two-character pieces in the column: up to _GRAM_SLOTS as plain instr/strpos
# terms (cheap per row), more through json_each / unnest (a first word longer than nine characters).
_GRAM_SLOTS = 8
_ANY_GRAM = {"sqlite": "EXISTS (SELECT 1 FROM json_each(:{grams}) WHERE instr({col}, value) > 0)",
             "postgresql": "EXISTS (SELECT 1 FROM unnest(CAST(:{grams} AS text[])) AS g(v) WHERE strpos({col}, g.v) > 0)"}
_CANDIDATES: dict[tuple[str, str, int, int], Any] = {}


def _candidates_sql(dialect: str, role: str, word_grams: int, core_grams: int):
    """One prepared statement per (dialect, role, pieces of the first word and of its core; -1 =
    many): built once, so a lookup costs its execution only."""
    key = (dialect, role, word_grams, core_grams)
    if key not in _CANDIDATES:
        pos = "strpos" if dialect == "postgresql" else "instr"

        def any_gram(name: str, col: str, n: int) -> str:
            if n < 0:
                return _ANY_GRAM["postgresql" if dialect == "postgresql" else "sqlite"].format(grams=f"{name}_grams", col=col)
            return "(" + " OR ".join(f"{pos}({col}, :{name}_g{i}) > 0" for i in range(n)) + ")" if n else "1 = 0"
        indexed = ""
        if role != "admin":  # a team's customers: only those sharing a piece with the message (storage/models_names.py)
            pieces = ("gram IN (SELECT value FROM json_each(:{kind}_grams))" if dialect != "postgresql"
                      else "gram = ANY(CAST(:{kind}_grams AS text[]))")
            # CROSS JOIN: SQLite reads the index first and then only those customers by id.
            indexed = "(" + " UNION ".join(
                f"SELECT customer_id FROM namegram WHERE team_id = :team_id AND kind = '{kind}' AND {pieces.format(kind=kind)}"
                for kind in ("p", "s")) + ") AS hit CROSS JOIN "
        sql = f"""SELECT id, name, company, company_norm FROM {indexed}customer
            WHERE {"id = hit.customer_id AND " if indexed else ""}{_VISIBLE_SQL.get(role, _VISIBLE_SQL['rep'])} AND NOT invalid AND status = 'open' AND (
              (length(name) >= 2 AND {pos}(:text, name) > 0)
              OR (company IS NOT NULL AND length(company) >= 2 AND {pos}(:text, company) > 0)
              OR lower(name) = :word OR (length(name) >= 3 AND {pos}(:word, lower(name)) > 0)
              OR (length(name) >= :word_min AND {any_gram('word', 'lower(name)', word_grams)})
              OR company_norm = :core OR (length(company_norm) >= 3 AND {pos}(:core, company_norm) > 0)
              OR (length(company_norm) >= :core_min AND {any_gram('core', 'company_norm', core_grams)}))"""
        _CANDIDATES[key] = sql_text(sql)
    return _CANDIDATES[key]


def name_candidates(session: Session, user: User, text: str) -> list[tuple[int, str, str | None, str | None]]:
    """(id, name, company, company_norm) of the user's open customers that ``find_by_name`` could
    score: a name or company (≥ 2 characters) contained in ``text``; a name / company core equal to
    the first word (its core), containing it or contained in it; or one sharing a two-character
    piece with it and long enough for the Dice threshold (``similarity``).

    One statement; the tests run in the database, so a user with 100,000 visible customers costs a
    scan in SQL, not 100,000 rows in Python.  A superset of the hits (except that SQLite's
    ``lower`` folds ASCII letters only): the caller scores exactly.
    """
    if not text.strip():
        return []
    dialect = session.get_bind().dialect.name
    first_word = text.strip().split()[0]
    word, core = first_word.lower(), company_core(first_word) or ""
    params: dict[str, Any] = {"text": text, "word": word, "core": core, "team_id": user.team_id, "user_id": user.id}
    counts = []
    for name, value in (("word", word), ("core", core)):
        pieces = sorted({value[i:i + 2] for i in range(len(value) - 1)})
        params[f"{name}_min"] = max(2, int(_MIN_NAME_SHARE * len(pieces)) + 1)
        if len(pieces) > _GRAM_SLOTS:
            counts.append(-1)
            params[f"{name}_grams"] = pieces if dialect == "postgresql" else json.dumps(pieces, ensure_ascii=False)
        else:
            counts.append(len(pieces))
            params.update({f"{name}_g{i}": piece for i, piece in enumerate(pieces)})
    if user.role != "admin":
        # The index's pieces (storage/models_names.py): a name or company in the text starts with
        # one of its two-character pieces (or of the first word's lower case: a name equal to or
        # inside it); a fuzzy match shares a piece with the first word or its core.
        starts = _pieces(text) | _pieces(word)
        shared = _pieces(word, single=True) | _pieces(core, single=True)
        for kind, grams in (("p_grams", starts), ("s_grams", shared)):
            grams_list = sorted(grams)
            params[kind] = grams_list if dialect == "postgresql" else json.dumps(grams_list, ensure_ascii=False)
    return [tuple(row) for row in session.execute(_candidates_sql(dialect, user.role, *counts), params)]


def _pieces(value: str, single: bool = False) -> set[str]:
    """Two-character pieces of ``value``; with ``single``, a one-character value is its own piece."""
    grams = {value[i:i + 2] for i in range(len(value) - 1)}
    return grams or ({value} if single and value else set())
