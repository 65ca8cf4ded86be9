"""Encryption at rest for reporters' identities, and keyed hashes for exact lookups.

Identity fields are stored as Fernet tokens (AES-128-CBC + HMAC-SHA256 from the
`cryptography` package). `QINGFENG_FIELD_KEYS` holds one or more keys: the first
encrypts, all of them decrypt, so keys can be rotated with `manage.py rotate_field_key`.
Lookups by phone or ID number use HMAC-SHA256 of the *normalised* value under
`QINGFENG_HMAC_KEY`, so the plain value never needs to be stored or indexed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return PREFIX + fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    if not token.startswith(PREFIX):
        raise ValueError("value is not an encrypted token")
    try:
        return fernet().decrypt(token[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:  # wrong key, or a tampered row
        raise ValueError("cannot decrypt: unknown key or tampered value") from exc


def rotate(token: str) -> str:
    """Re-encrypt under the first (newest) key."""
    return PREFIX + fernet().rotate(token[len(PREFIX) :].encode("ascii")).decode("ascii")


class EncryptedTextField(models.TextField):
    """A text column whose database value is a Fernet token; Python sees plain text.

    Empty strings stay empty so "not given" needs no ciphertext.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(PREFIX):
            return decrypt(value)
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


# --- normalisation -----------------------------------------------------------------

_DIGITS = re.compile(r"\d+")


def _halfwidth(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def normalize_phone(value: str) -> str:
    """'+86 138-0013 8000', '８６１３８００１３８０００', '0086…' -> '13800138000'."""
    digits = "".join(_DIGITS.findall(_halfwidth(value or "")))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalize_id_number(value: str) -> str:
    """Resident ID: half-width, no spaces, upper-case X."""
    return re.sub(r"\s+", "", _halfwidth(value or "")).upper()


def id_number_is_valid(value: str) -> bool:
    """Checks the GB 11643 checksum of an 18-character resident ID (15-digit old IDs pass on shape)."""
    v = normalize_id_number(value)
    if re.fullmatch(r"\d{15}", v):
        return True
    if not re.fullmatch(r"\d{17}[\dX]", v):
        return False
    total = sum(int(c) * w for c, w in zip(v[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == v[17]


def normalize_name(value: str) -> str:
    return re.sub(r"[\s·•.]+", "", _halfwidth(value or "")).lower()


def keyed_hash(kind: str, normalised: str) -> str:
    """HMAC-SHA256 hex of a normalised value; empty input gives an empty string (no lookup)."""
    if not normalised:
        return ""
    msg = f"{kind}:{normalised}".encode()
    return hmac.new(settings.HMAC_KEY.encode("utf-8"), msg, hashlib.sha256).hexdigest()


def phone_hash(value: str) -> str:
    return keyed_hash("phone", normalize_phone(value))


def id_number_hash(value: str) -> str:
    return keyed_hash("id", normalize_id_number(value))


def name_hash(value: str) -> str:
    return keyed_hash("name", normalize_name(value))
