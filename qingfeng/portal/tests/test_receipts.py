from __future__ import annotations

import math
import re

import pytest
from django.db import connection

from qingfeng.portal import receipts
from qingfeng.portal.models import ReceiptCode


def test_a_code_is_25_digits_in_five_groups_with_at_least_80_bits():
    code = receipts.generate_code()
    assert re.fullmatch(r"\d{5}(-\d{5}){4}", code)
    assert receipts.CODE_DIGITS * math.log2(10) >= 80
    assert receipts.ENTROPY_BITS == math.floor(receipts.CODE_DIGITS * math.log2(10)) >= 80


def test_codes_do_not_repeat_and_use_every_digit():
    codes = {receipts.generate_code() for _ in range(200)}
    assert len(codes) == 200
    assert set("".join(codes).replace("-", "")) == set("0123456789")


@pytest.mark.parametrize(
    "typed",
    [
        "12345-67890-12345-67890-12345",
        "1234567890123456789012345",
        " 12345 67890 12345 67890 12345 ",
        "１２３４５－６７８９０－１２３４５－６７８９０－１２３４５",
    ],
)
def test_typed_codes_are_normalised_whatever_the_separators_or_width(typed):
    assert receipts.normalize_code(typed) == "1234567890123456789012345"


@pytest.mark.parametrize("typed", ["", "1234", "12345-67890-12345-67890-1234X", "1" * 26])
def test_something_that_cannot_be_a_code_is_not_one(typed):
    assert receipts.normalize_code(typed) is None


def test_the_hash_is_salted_argon2id_with_the_documented_parameters():
    code = receipts.generate_code()
    first, second = receipts.hash_code(code), receipts.hash_code(code)
    assert first != second  # salted
    assert first.startswith("argon2$argon2id$v=19$m=12288,t=2,p=1$")
    assert receipts.code_matches(code.replace("-", ""), first)
    assert not receipts.code_matches("0" * 25, first)
    assert not receipts.code_matches(code.replace("-", ""), "not-a-hash")


@pytest.mark.django_db
def test_only_a_hash_of_the_code_is_stored(submit):
    receipt = submit()
    digits = receipt.code.replace("-", "")
    table = ReceiptCode._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        rows = cursor.fetchall()
    assert len(rows) == 1
    raw = " ".join(str(v) for v in rows[0])
    assert digits not in raw and receipt.code not in raw
    assert "argon2id" in raw
