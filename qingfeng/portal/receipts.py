"""Receipt codes: how they look, how they are hashed.

Format: 25 decimal digits in 5 groups of 5, e.g. ``40417-90352-18846-02279-66135``.
  * Entropy: 25 · log2(10) ≈ 83.0 bits from `secrets` (the floor is 80).
  * Digits, not letters: reporters read the code aloud over the phone, copy it from a printed
    slip or type it on a phone keypad; Chinese speakers read digits unambiguously, while Latin
    letters (B/D/E, M/N) are easily confused when spoken. Groups of five are easy to read back.
  * Input is forgiving: full-width digits, spaces, hyphens and other separators are ignored.

Hashing: Argon2id through Django's password-hasher framework, with parameters chosen for an
83-bit random secret rather than a human password (see `ReceiptCodeHasher`).
"""

from __future__ import annotations

import re
import secrets
import unicodedata

from django.contrib.auth.hashers import Argon2PasswordHasher, make_password

CODE_DIGITS = 25
GROUP = 5
ENTROPY_BITS = 83  # floor(25 * log2(10))
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―_.·]+")


class ReceiptCodeHasher(Argon2PasswordHasher):
    """Argon2id with time_cost=2, memory_cost=12 MiB, parallelism=1: about 10–20 ms per hash.

    Django's defaults (100 MiB, 8 lanes) are sized for passwords people choose, which a GPU can
    guess by the billion. A receipt code has 83 random bits: even at a million guesses a second a
    stolen table would take ~10^11 years per code, so the hash only needs to be salted and costly
    enough to stay memory-hard, not slow for its own sake. Online guessing is stopped by the
    throttles (5 wrong codes per case per 15 minutes), not by the hash.

    The small cost keeps a submission cheap on the 2-core servers: 12 MiB and one core per hash,
    so four workers hashing at once use 48 MiB and leave a core for the database. Parameters are
    stored in each hash, so they can be raised later; `must_update` tells when a hash is older.
    """

    time_cost = 2
    memory_cost = 12 * 1024  # KiB
    parallelism = 1


HASHER = ReceiptCodeHasher()


def generate_code() -> str:
    """A new random code, grouped for display."""
    digits = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    return format_code(digits)


def format_code(digits: str) -> str:
    return "-".join(digits[i : i + GROUP] for i in range(0, len(digits), GROUP))


def normalize_code(value: str) -> str | None:
    """The 25 digits of a typed code, or None when it cannot be a receipt code at all.

    A value that is not 25 digits is a typing slip, not a guess: callers report it as such and
    do not count it as a wrong code.
    """
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", value or ""))
    if len(text) != CODE_DIGITS or not text.isascii() or not text.isdigit():
        return None
    return text


def hash_code(code: str) -> str:
    """The stored form of a code (salted Argon2id). Accepts the grouped or the bare form."""
    digits = normalize_code(code)
    if digits is None:
        raise ValueError("not a receipt code")
    return make_password(digits, hasher=HASHER)


def code_matches(code_digits: str, encoded: str) -> bool:
    """Constant-time check of normalised digits against a stored hash.

    Not `django.contrib.auth.hashers.check_password`: that picks the hasher from
    settings.PASSWORD_HASHERS (the staff password policy, a fast MD5 in tests), and receipt codes
    must be checked with this hasher whatever that setting says.
    """
    try:
        return HASHER.verify(code_digits, encoded)
    except (ValueError, AssertionError):  # a malformed stored value never matches
        return False


# A hash of a code nobody holds: verified when a case number is unknown, so an unknown number
# takes as long to reject as a wrong code and the timing does not tell which numbers exist.
_DECOY_HASH: str | None = None


def decoy_hash() -> str:
    global _DECOY_HASH
    if _DECOY_HASH is None:
        _DECOY_HASH = hash_code(generate_code())
    return _DECOY_HASH
