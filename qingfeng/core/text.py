"""Chinese-aware text helpers. Chinese is segmented with jieba, never split on whitespace."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)

_PUNCT = re.compile(r"[\s\u3000-\u303f\uff00-\uffef,.;:!?'\"()\[\]{}<>/\\|@#$%^&*_+=~`-]+")
_WS = re.compile(r"\s+")


def clean_whitespace(value: str) -> str:
    """Collapse runs of whitespace (tabs, newlines, full-width spaces) into single spaces."""
    return _WS.sub(" ", (value or "").replace("\u3000", " ")).strip()


@lru_cache(maxsize=1)
def _ready() -> bool:
    jieba.initialize()
    return True


def tokens(text: str, *, for_search: bool = False) -> list[str]:
    """Words of a text, lower-cased, without punctuation."""
    _ready()
    cut = jieba.cut_for_search if for_search else jieba.cut
    out = []
    for tok in cut(text or ""):
        tok = _PUNCT.sub("", tok).lower()
        if tok:
            out.append(tok)
    return out


def search_document(*parts: str) -> str:
    """The indexed token string stored with a case (space-separated, de-duplicated, order kept)."""
    seen: dict[str, None] = {}
    for part in parts:
        for tok in tokens(part, for_search=True):
            seen.setdefault(tok, None)
    return " ".join(seen)


def query_terms(query: str) -> list[str]:
    """Terms a search query must all match (each term is one jieba word)."""
    seen: dict[str, None] = {}
    for tok in tokens(query):
        seen.setdefault(tok, None)
    return list(seen)
