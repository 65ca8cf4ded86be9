from __future__ import annotations

import csv
import random
import re
from pathlib import Path

import pytest

from qingfeng.cases.choices import ItemType, PartyKind, Rank
from qingfeng.intake import textgen

CJK = re.compile(r"[\u4e00-\u9fff]")
DATA = Path(__file__).resolve().parents[2] / "cases" / "data"


def _codes(name: str) -> set[str]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return {row["code"] for row in csv.DictReader(fh)}


def _texts(seed: int, n: int = 300, region: str = "临川县") -> list[textgen.GeneratedText]:
    rng = random.Random(seed)
    return [textgen.generate_text(rng, region) for _ in range(n)]


def test_texts_are_chinese_and_varied() -> None:
    texts = _texts(1)
    assert len({t.title for t in texts}) > 200  # outside-remit and empty items share plain titles
    assert len({t.description for t in texts}) > 250
    for t in texts:
        assert t.title and t.description
        assert len(CJK.findall(t.description)) / len(t.description) > 0.7
        assert len(t.title) <= 200 and len(t.keywords) <= 200
    # every kind of item turns up, with many different problems and posts
    assert {t.item_type for t in texts} == {c.value for c in ItemType}
    assert len({t.category for t in texts}) >= 10
    assert len({t.party.post for t in texts if t.party.post}) >= 15


def test_the_same_seed_gives_the_same_texts_and_another_seed_others() -> None:
    assert _texts(7, 50) == _texts(7, 50)
    assert {t.title for t in _texts(7, 50)} != {t.title for t in _texts(8, 50)}


def test_texts_name_the_region_and_a_reported_party() -> None:
    for t in _texts(2, 200, region="东城区"):
        if t.item_type == ItemType.ACCUSATION and t.party.kind == PartyKind.PERSON:
            assert t.party.name in t.title + t.description
            assert t.party.rank in Rank.values
            assert t.party.post and t.party.unit
        if t.party.kind == PartyKind.ORGANISATION:
            assert t.party.name and not t.party.rank
    assert any("东城区" in t.title + t.description for t in _texts(2, 200, region="东城区"))


def test_category_and_tag_hints_are_codes_of_the_shipped_lists() -> None:
    categories, tags = _codes("categories.csv"), _codes("tags.csv")
    texts = _texts(3)
    assert {t.category for t in texts} <= categories
    assert {tag for t in texts for tag in t.tags} <= tags


def test_follow_ups_ask_again() -> None:
    rng = random.Random(4)
    again = textgen.generate_text(rng, "安平县", item_type=ItemType.ACCUSATION, follow_up=2)
    third = textgen.generate_text(rng, "安平县", item_type=ItemType.ACCUSATION, follow_up=3)
    assert again.follow_up == 2 and re.match(r"(再问|再次反映|第二次举报)", again.title)
    assert third.follow_up == 3 and third.title.startswith(("三问", "第三次反映"))
    assert "反映" in again.description[-60:] or "答复" in again.description[-60:]
    texts = _texts(5, 400)
    assert any(t.follow_up for t in texts) and sum(1 for t in texts if t.follow_up) < 80


def test_a_skeleton_renders_the_same_through_format_templates() -> None:
    rng = random.Random(6)
    fills = textgen.make_fills(name="王建国", county="清河县", town="城关镇", village="王家", city="石城市")
    ordered = [fills[s] for s in textgen.SLOTS]
    for _ in range(50):
        sk = textgen.compose(rng)
        assert textgen.format_template(sk.title).format(*ordered) == textgen.render(sk.title, fills)
        assert textgen.format_template(sk.description).format(*ordered) == textgen.render(sk.description, fills)


def test_street_offices_get_a_street_head_not_a_mayor() -> None:
    assert textgen.make_fills(name="", county="东城区", town="东华门街道", village="")["town_gov"] == "东华门街道办事处"
    assert textgen.make_fills(name="", county="清河县", town="李庄乡", village="")["town_head"] == "乡长"
    assert textgen.make_fills(name="", county="东城区", town="x镇", village="")["county_head"] == "区长"


def _write_board(path: Path) -> Path:
    file = path / textgen.SHARED_FILE
    with file.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "答复意见", "答复时间"])
        w.writerow(
            [
                "1",
                "u1",
                " A7县某路 \t积水 ",
                "2019/1/1",
                "\n\t\t  A市A7县某小区门口\t 长期积水。\r\n\n  请处理。  \n",
                "",
                "",
            ]
        )
        w.writerow(["2", "u2", "空的", "2019/1/2", "   \n\t ", "", ""])
    return file


def test_shared_messages_are_read_with_whitespace_normalised(tmp_path: Path) -> None:
    file = _write_board(tmp_path)
    assert list(textgen.iter_shared_messages(file)) == [("A7县某路 积水", "A市A7县某小区门口 长期积水。\n请处理。")]
    assert list(textgen.iter_shared_messages(tmp_path)) == list(textgen.iter_shared_messages(file))


def test_no_shared_messages_without_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert list(textgen.iter_shared_messages(tmp_path / "missing.csv")) == []
    monkeypatch.setenv("QINGFENG_SHARED_DATA", str(tmp_path / "nowhere"))
    assert list(textgen.iter_shared_messages()) == []


def test_the_environment_variable_points_at_the_shared_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "complaints").mkdir()
    _write_board(tmp_path / "complaints")
    monkeypatch.setenv("QINGFENG_SHARED_DATA", str(tmp_path))
    assert textgen.shared_complaints_dir() == tmp_path / "complaints"
    assert len(list(textgen.iter_shared_messages())) == 1


def test_anonymised_places_of_a_shared_message_become_slots() -> None:
    sk = textgen.shared_skeleton("A7县某路积水", "位于A市A7县的小区，B市也有", random.Random(1))
    fills = textgen.make_fills(name="张三", county="清河县", town="城关镇", village="王家", city="石城市")
    assert textgen.render(sk.title, fills) == "清河县某路积水"
    assert textgen.render(sk.description, fills) == "位于石城市清河县的小区，石城市也有"


def test_the_shared_message_board_reads_cleanly() -> None:
    if not (textgen.shared_complaints_dir() / textgen.SHARED_FILE).is_file():
        pytest.skip("the shared complaint texts (../shared/data/complaints) are not on this machine")
    messages = list(textgen.iter_shared_messages())
    assert len(messages) > 2000
    for title, body in messages:
        assert title and body and "\t" not in title + body and "\r" not in body
        assert title == title.strip() and "  " not in body and "\n\n" not in body
