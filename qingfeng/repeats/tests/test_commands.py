from __future__ import annotations

import json
from pathlib import Path

from django.core.management import call_command

from qingfeng.repeats.models import RepeatDoc
from qingfeng.repeats.tests.conftest import make_case

TITLE = "反映某某村村主任张三侵占集体土地征收补偿款"
BODY = "2023年村里土地被征收，村主任张三把补偿款截留，至今没有发给村民，村民多次找镇里反映都没有结果。"


def _line(ext: str, when: str, title: str, body: str, **kw: str) -> str:
    row = {
        "external_id": ext,
        "received_at": when,
        "channel": "online",
        "title": title,
        "description": body,
        "reporter_name": kw.get("name", ""),
        "reporter_phone": kw.get("phone", ""),
        "reporter_id_number": "",
        "anonymous": not kw.get("phone"),
        "region_code": "110101",
        "category": "",
        "reported_name": kw.get("reported", ""),
        "reported_unit": "",
        "status": "",
        "outcome": "",
    }
    return json.dumps(row, ensure_ascii=False)


def test_find_repeats_writes_one_line_per_input_in_input_order(tree, tmp_path: Path) -> None:
    registered = make_case(tree["county"], TITLE, BODY, external_id="old-1", days_ago=3000)
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join(
            [
                # Later in time, first in the file: compared with the earlier lines all the same.
                _line("c", "2024/3/5 9:00:00", TITLE, BODY + "再次反映！", phone="13800138000"),
                _line("a", "2024-01-02 08:00", "阳光小区物业乱收费问题", "物业每月多收停车费。", phone="13800138000"),
                "",
                _line("b", "2024年2月1日", TITLE, BODY, phone="+86 13800138000"),
            ]
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    call_command("find_repeats", "--input", str(src), "--output", str(out))
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["input"] for x in lines] == ["c", "a", "b"]
    by = {x["input"]: {c["external_id"]: c for c in x["candidates"]} for x in lines}
    # a: only the registered case is earlier, and it is about something else.
    assert "old-1" not in by["a"] or not by["a"]["old-1"]["flag"]
    # b: same matter as the registered case; same reporter as a but another matter.
    assert by["b"]["old-1"]["flag"] and by["b"]["old-1"]["case_number"] == registered.number
    assert by["b"]["a"]["flag"] is False and "same phone" in by["b"]["a"]["reasons"]
    # c: repeats b (same matter, same phone) and the registered case; never lists itself.
    assert by["c"]["b"]["flag"] and by["c"]["b"]["case_number"] is None
    assert by["c"]["old-1"]["flag"]
    assert "c" not in by["c"]
    for x in lines:
        for cand in x["candidates"]:
            assert 0 <= cand["score"] <= 1 and isinstance(cand["reasons"], list)


def test_find_repeats_can_ignore_the_database(tree, tmp_path: Path) -> None:
    make_case(tree["county"], TITLE, BODY, external_id="old-1")
    src = tmp_path / "in.jsonl"
    src.write_text(_line("x", "2024-01-01", TITLE, BODY) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    call_command("find_repeats", "--input", str(src), "--output", str(out), "--no-db")
    assert json.loads(out.read_text(encoding="utf-8")) == {"input": "x", "candidates": []}


def test_rebuild_repeat_index_indexes_every_case(tree, capsys, tmp_path: Path, settings) -> None:
    make_case(tree["county"], TITLE, BODY, index=False)
    make_case(tree["county"], "阳光小区物业乱收费问题", "物业每月多收停车费。", index=False)
    call_command("rebuild_repeat_index", "--snapshot", str(tmp_path / "v.usearch"))
    assert RepeatDoc.objects.count() == 2
    assert "Indexed 2 cases" in capsys.readouterr().out
