"""Conversation reading for salesbot, usable without Telegram.

    from nlp import analyze, parse_transcript, warm_up
    warm_up()                                   # once at start-up, in a worker thread
    result = analyze(pasted_text, rep_names=["小李"], scripts=team_scripts)

Modules: parse (pasted chats → turns), analyze (intent, reasons, objections, keywords),
predict (14-day close probability, best contact hour), eval (figures on a labeled JSONL file),
engine (jieba + lexicon loading), lexicon (the matcher), keywords (TF-IDF), times.
Data (editable, commented): nlp/data/lexicon.toml, userdict.txt, idf.txt, scripts.toml.

Importing this package is cheap: jieba is only loaded by warm_up() (or the first analyze()).
"""
from nlp.analyze import Analysis, Objection, Reason, analyze
from nlp.engine import is_ready, warm_up
from nlp.parse import Transcript, Turn, parse_transcript

__all__ = ["Analysis", "Objection", "Reason", "Transcript", "Turn", "analyze", "is_ready",
           "parse_transcript", "warm_up"]
