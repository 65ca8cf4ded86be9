from __future__ import annotations

from qingfeng.core import crypto
from qingfeng.repeats import minhash
from qingfeng.repeats.normalize import jaccard, normalize_text, party_match_key, reporter_hashes, shingles


def test_party_match_key_ignores_spacing_width_and_formal_unit_names() -> None:
    assert party_match_key("张 三", "某某镇人民政府") == party_match_key("张三", "某某镇政府")
    assert party_match_key("ＬＩ　Ｍｉｎｇ", "中共某某县委员会") == party_match_key("li ming", "某某县委")
    assert party_match_key("张三", "") == "张三|"
    assert party_match_key("  ", "某单位") == ""


def test_reporter_hashes_normalise_phone_forms_and_check_the_id_number() -> None:
    a = reporter_hashes({"name": "王 五", "phone": "+86 138-0013 8000", "id_number": "11010519491231002x"})
    b = reporter_hashes({"name": "王五", "phone": "１３８００１３８０００", "id_number": "11010519491231002X"})
    assert a == b
    assert a.phones == (crypto.phone_hash("13800138000"),)
    assert a.identity_keys == [f"id:{a.id_number}", f"phone:{a.phones[0]}"]


def test_an_invalid_id_number_or_a_short_phone_identifies_nobody() -> None:
    h = reporter_hashes({"name": "王五", "phone": "12345", "id_number": "110105194912310021"})
    assert h.identity_keys == []
    assert h.name


def test_chinese_is_shingled_by_characters_not_whitespace() -> None:
    assert shingles("村主任 侵占，补偿款") == {"村主", "主任", "任侵", "侵占", "占补", "补偿", "偿款"}
    assert normalize_text("Ａ市　反映！") == "a市反映"
    assert jaccard(shingles("侵占补偿款"), shingles("侵占补偿款")) == 1.0
    assert jaccard(set(), shingles("侵占")) == 0.0


def test_near_identical_texts_share_a_band_and_unrelated_ones_do_not() -> None:
    base = (
        "反映某某村村主任张三侵占集体土地征收补偿款，2023年村里土地被征收，村主任张三把补偿款截留，至今没有发给村民。"
    )
    near = base.replace("2023年", "二〇二三年") + "请尽快调查。"
    other = "阳光小区物业公司每月多收停车费，业主多次投诉无果，希望有关部门尽快处理物业乱收费的问题。"
    b0, b1, b2 = (set(minhash.bands(minhash.signature(shingles(t)))) for t in (base, near, other))
    assert len(b0) == minhash.BANDS
    assert b0 & b1
    assert not b0 & b2
    assert minhash.bands(minhash.signature(set())) == []


def test_normalize_text_equals_plain_nfkc_on_tricky_and_random_text() -> None:
    """The full-width shortcut must give exactly NFKC's result, or stored band keys would drift."""
    import random
    import re
    import unicodedata

    def plain(value: str) -> str:
        return re.sub(r"[\s\W_]+", "", unicodedata.normalize("NFKC", value)).lower()

    tricky = [
        "反映 Ａ市…！",
        "ｅ\u0301，ｅ，\u0301",  # a full-width letter before a combining mark; a comma between them
        "\u3000\u3000ＡＢＣ１２３％",
        "™½①㈱ｶﾞ가\u1161",  # compatibility characters that become letters, digits or compose
        "……。、“”《》（）",
        "",
        "已经是NFKC的文本",
    ]
    rng = random.Random(7)
    pool = [*range(0x20, 0x250), *range(0x300, 0x370), *range(0x1100, 0x1200), *range(0x2000, 0x2200),
            *range(0x3000, 0x3100), *range(0x4E00, 0x4E80), *range(0xAC00, 0xAC40), *range(0xFF00, 0xFFF0)]  # fmt: skip
    randoms = ["".join(chr(rng.choice(pool)) for _ in range(rng.randrange(1, 40))) for _ in range(3000)]
    for text in tricky + randoms:
        assert normalize_text(text) == plain(text), text
