"""Normalisation shared by indexing and lookup: the two sides must agree exactly.

Chinese text is compared by characters (character bigrams), never by whitespace-split words.
Reporter identities are only ever handled as keyed hashes (qingfeng.core.crypto).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from qingfeng.core import crypto

# Whitespace, ASCII and CJK punctuation, symbols: dropped before shingling.
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
# Honorific and formal variants of unit names that people type either way.
_UNIT_VARIANTS = (
    ("中国共产党", ""),
    ("中共", ""),
    ("人民政府", "政府"),
    ("委员会", "委"),
    ("有限责任公司", "公司"),
    ("有限公司", "公司"),
    ("股份公司", "公司"),
)


# Full-width forms, the ideographic space and the ellipsis: what keeps most Chinese text from
# being NFKC already. Each is replaced by its own compatibility decomposition, which leaves the
# text's NFKC unchanged (NFKC decomposes every character fully first), and the full NFKC pass,
# three quarters of the cost of comparing a candidate's text, is then mostly skipped.
_WIDE = re.compile("[\uff01-\uff5e\u3000\u2026]")
_WIDE_KD = {chr(c): unicodedata.normalize("NFKD", chr(c)) for c in [*range(0xFF01, 0xFF5F), 0x3000, 0x2026]}


def _nfkc(value: str) -> str:
    if unicodedata.is_normalized("NFKC", value):
        return value
    value = _WIDE.sub(lambda m: _WIDE_KD[m.group()], value)
    return value if unicodedata.is_normalized("NFKC", value) else unicodedata.normalize("NFKC", value)


def normalize_text(value: str) -> str:
    """Half-width, lower-case, no whitespace or punctuation: '反映 Ａ市…！' -> '反映a市'."""
    return _NOISE.sub("", _nfkc(value or "")).lower()


def case_text(title: str, description: str) -> str:
    """The text a case is compared by: its title, then its description."""
    title = (title or "").strip()
    description = (description or "").strip()
    return f"{title}\n{description}" if title and description else title or description


# Exact text similarity compares the first JACCARD_CHARS normalised characters of each side.
JACCARD_CHARS = 1000


def shingles(text: str, *, max_chars: int = 3000) -> set[str]:
    """Character bigrams of the normalised text (a single character for a one-character text)."""
    norm = normalize_text((text or "")[: 2 * max_chars])[:max_chars]
    if len(norm) < 2:
        return {norm} if norm else set()
    return {norm[i : i + 2] for i in range(len(norm) - 1)}


# A lone character is kept as (char, _LONE), which no real bigram can equal (code points < 2**21).
_LONE = np.uint64(0x1FFFFF)
_SHIFT = np.uint64(21)


def gram_array(text: str, *, max_chars: int = 3000) -> np.ndarray:
    """The same bigrams as `shingles`, packed as a sorted array of unique integers.

    Scoring compares dozens of candidate texts per lookup; packing the pairs of code points in
    numpy costs half as much as building a set of strings, and the intersection a tenth.
    """
    norm = normalize_text((text or "")[: 2 * max_chars])[:max_chars]
    codes = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if codes.size < 2:
        return (codes << _SHIFT) | _LONE
    return np.unique((codes[:-1] << _SHIFT) | codes[1:])


def jaccard_arrays(a: np.ndarray, b: np.ndarray) -> float:
    """`jaccard` of two `gram_array` results."""
    if not a.size or not b.size:
        return 0.0
    inter = int(np.intersect1d(a, b, assume_unique=True).size)
    return inter / (a.size + b.size - inter)


def jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def _norm_party(value: str) -> str:
    return normalize_text(crypto.normalize_name(value))


def normalize_unit(unit: str) -> str:
    out = _norm_party(unit)
    for old, new in _UNIT_VARIANTS:
        out = out.replace(old, new)
    return out


def party_match_key(name: str, unit: str = "") -> str:
    """Normalised "name|unit" of a reported person or organisation.

    '张 三', '某某镇人民政府' and '张三', '某某镇政府' give the same key. An organisation is
    keyed by its own name in the first part (its unit, if given, is its parent body).
    """
    n = _norm_party(name)
    if not n:
        return ""
    return f"{n}|{normalize_unit(unit)}"[:300]


@dataclass(frozen=True)
class ReporterHashes:
    """Keyed hashes of a reporter's identity; empty strings mean "not given"."""

    name: str = ""
    phones: tuple[str, ...] = ()
    id_number: str = ""

    @property
    def identity_keys(self) -> list[str]:
        """Hashes that identify one person (phones and ID number; a name alone does not)."""
        keys = [f"id:{self.id_number}"] if self.id_number else []
        keys += [f"phone:{p}" for p in self.phones]
        return keys

    @property
    def is_empty(self) -> bool:
        return not (self.name or self.phones or self.id_number)


def reporter_hashes(reporter: Mapping[str, str | None] | None) -> ReporterHashes:
    """Hash a form's plaintext reporter fields: name, phone, phone2, id_number."""
    if not reporter:
        return ReporterHashes()
    phones = []
    for field in ("phone", "phone2"):
        raw = reporter.get(field) or ""
        # A number too short to be a phone (typos, extensions) would join unrelated people.
        if len(crypto.normalize_phone(raw)) >= 7:
            phones.append(crypto.phone_hash(raw))
    id_raw = reporter.get("id_number") or ""
    id_hash = crypto.id_number_hash(id_raw) if crypto.id_number_is_valid(id_raw) else ""
    name_raw = reporter.get("name") or ""
    return ReporterHashes(
        name=crypto.name_hash(name_raw) if crypto.normalize_name(name_raw) else "",
        phones=tuple(dict.fromkeys(phones)),
        id_number=id_hash,
    )


def stored_reporter_hashes(*, name_hash: str, phone_hash: str, phone2_hash: str, id_number_hash: str) -> ReporterHashes:
    """The same structure from a stored Reporter row's hash columns."""
    phones = tuple(dict.fromkeys(h for h in (phone_hash, phone2_hash) if h))
    return ReporterHashes(name=name_hash or "", phones=phones, id_number=id_number_hash or "")
