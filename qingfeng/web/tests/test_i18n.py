from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from qingfeng.cases.choices import Channel, Status
from qingfeng.cases.workflow import Action

pytestmark = pytest.mark.django_db

CATALOG = Path(settings.BASE_DIR) / "qingfeng" / "locale" / "zh_Hans" / "LC_MESSAGES"


def _unquote(lines: list[str]) -> str:
    return "".join(ast.literal_eval(line) for line in lines)


def read_po(path: Path) -> list[dict[str, object]]:
    """A small .po reader: msgid, msgid_plural, msgstr / msgstr[n] and flags of each entry."""
    entries: list[dict[str, object]] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict[str, object] = {"flags": "", "msgstr": {}}
        key: str | None = None
        parts: dict[str, list[str]] = {}
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                entry["flags"] = line
            elif line.startswith("#"):
                continue
            elif m := re.match(r'^(msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line):
                key = m.group(1)
                parts[key] = [m.group(2)]
            elif line.startswith('"') and key:
                parts[key].append(line)
        if "msgid" not in parts:
            continue
        entry["msgid"] = _unquote(parts["msgid"])
        entry["plural"] = _unquote(parts["msgid_plural"]) if "msgid_plural" in parts else None
        entry["msgstr"] = {k: _unquote(v) for k, v in parts.items() if k.startswith("msgstr")}
        entries.append(entry)
    return entries


def test_every_message_of_the_project_catalog_has_a_chinese_translation():
    entries = [e for e in read_po(CATALOG / "django.po") if e["msgid"]]
    assert len(entries) > 300
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values())]  # type: ignore[union-attr]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in str(e["flags"])]
    assert untranslated == [] and fuzzy == []


def test_the_compiled_catalog_is_in_step_with_the_po_file():
    with (CATALOG / "django.mo").open("rb") as fh:
        mo = gettext.GNUTranslations(fh)
    for e in read_po(CATALOG / "django.po"):
        if not e["msgid"]:
            continue
        if e["plural"]:
            assert mo.ngettext(e["msgid"], e["plural"], 1) == e["msgstr"]["msgstr[0]"]  # type: ignore[index]
        else:
            assert mo.gettext(e["msgid"]) == e["msgstr"]["msgstr"], e["msgid"]  # type: ignore[index]


def test_the_compiled_catalog_is_not_ignored_by_git():
    ignore = (Path(settings.BASE_DIR) / ".gitignore").read_text()
    assert "*.mo" not in ignore and "locale" not in ignore


@pytest.mark.parametrize(
    ("label", "chinese"),
    [
        (Status.RECEIVED.label, "已接收"),
        (Status.NOT_ACCEPTED.label, "不予受理"),
        (Status.REPEAT.label, "重复件"),
        (Status.DISPOSED.label, "处置中"),
        (Status.SHELVED.label, "暂存待查"),
        (Status.ARCHIVED.label, "已归档"),
        (Channel.LETTER.label, "来信"),
        (Channel.VISIT.label, "来访"),
        (Channel.PHONE.label, "来电"),
        (Action.SEND_UP.label, "报送上级"),
        (Action.TRANSFER_DOWN.label, "转办"),
        (Action.ASSIGN.label, "交办"),
    ],
)
def test_domain_labels_use_the_chinese_terms(label, chinese):
    with translation.override("zh-hans"):
        assert str(label) == chinese


def test_every_code_list_label_is_translated():
    from qingfeng.cases import choices

    enums = (
        choices.Status,
        choices.Channel,
        choices.Source,
        choices.ItemType,
        choices.Urgency,
        choices.Rank,
        choices.HandlingMode,
        choices.DisposalWay,
        choices.InquiryOutcome,
        choices.Substantiation,
        choices.NotAcceptedReason,
        choices.PartyKind,
        Action,
    )
    with translation.override("zh-hans"):
        untranslated = [(e.__name__, m.value) for e in enums for m in e if str(m.label).isascii()]
    assert untranslated == []


def test_a_page_rendered_in_english_shows_received_and_in_chinese_已接收(browser_client, staff, register):
    case = register("county", actor=staff("county"))
    en = browser_client(staff("county"), language="en").get(f"/cases/{case.number}/").content.decode()
    zh = browser_client(staff("county")).get(f"/cases/{case.number}/").content.decode()
    assert ">Received<" in en and '<html lang="en">' in en
    assert ">已接收<" in zh and '<html lang="zh-hans">' in zh
    assert "筛选" in zh and "来电" in zh


def test_the_language_switcher_changes_the_language(browser_client, staff, register):
    case = register("county", actor=staff("county"))
    client = browser_client(staff("county"))
    assert "已接收" in client.get("/cases/").content.decode()
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/cases/"})
    assert r.status_code == 302 and r["Location"] == "/cases/"
    html = client.get("/cases/").content.decode()
    assert ">Received<" in html and case.number in html
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "已接收" in client.get("/cases/").content.decode()


def test_categories_and_tags_show_the_name_of_the_active_language(browser_client, staff, register):
    case = register("county", actor=staff("county"), categories=["integrity.gifts"], tags=["rural"])
    en = browser_client(staff("county"), language="en").get(f"/cases/{case.number}/").content.decode()
    zh = browser_client(staff("county")).get(f"/cases/{case.number}/").content.decode()
    assert "Accepting or giving gifts and money" in en and "Rural revitalisation" in en
    assert "违规收送礼品礼金" in zh and "乡村振兴" in zh
    form_en = browser_client(staff("county"), language="en").get("/cases/new/").content.decode()
    assert "Violation of integrity discipline" in form_en and "Epidemic prevention" in form_en


def test_the_login_page_is_chinese_by_default(client):
    html = client.get("/accounts/login/").content.decode()
    assert "登录" in html and 'data-testid="language-switcher"' in html


def test_after_a_failed_action_the_language_switcher_returns_to_the_case_page(browser_client, staff, register):
    case = register("county", actor=staff("county"))
    r = browser_client(staff("county")).post(f"/cases/{case.number}/act/not_accept/", {})
    assert r.status_code == 422
    assert f'name="next" type="hidden" value="/cases/{case.number}/"' in r.content.decode()
