from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from qingfeng.cases.choices import Status
from qingfeng.cases.models import Case, CaseAccess, CaseEvent, CaseNumberSequence, ReportedParty, Reporter
from qingfeng.core import crypto
from qingfeng.intake import textgen
from qingfeng.intake.synthetic import generate_cases, region_name_of
from qingfeng.offices.models import Office

pytestmark = pytest.mark.django_db

END = timezone.localdate()
START = END - timedelta(days=540)
NUMBER = re.compile(r"^(\d+)-(\d{4})-(\d{6})$")
S = Status


def _generate(tree: dict[str, Office], count: int = 400, seed: int = 1, **kwargs: object) -> int:
    options: dict[str, object] = {"batch_size": 150, "use_shared_texts": False, "start": START, "end": END}
    options.update(kwargs)
    return generate_cases(count=count, offices=[tree["county"], tree["sibling"]], seed=seed, **options)  # type: ignore[arg-type]


@pytest.fixture
def cases(tree: dict[str, Office]) -> list[Case]:
    assert _generate(tree, 600) == 600
    return list(Case.objects.select_related("holding_office", "received_office").order_by("id"))


def test_it_creates_exactly_n_cases_with_unique_well_formed_numbers(tree: dict[str, Office]) -> None:
    done: list[int] = []
    assert _generate(tree, 333, progress=lambda n, total: done.append(n)) == 333
    assert Case.objects.count() == 333
    assert done[-1] == 333 and done == sorted(done)
    numbers = list(Case.objects.values_list("number", "received_office__code", "received_at"))
    assert len({n for n, _, _ in numbers}) == 333
    for number, code, received_at in numbers:
        m = NUMBER.match(number)
        assert m and m.group(1) == code
        assert int(m.group(2)) == timezone.localtime(received_at).year


def test_numbers_run_without_gaps_and_later_registrations_do_not_clash(tree: dict[str, Office]) -> None:
    from qingfeng.cases.services import case_next_number

    _generate(tree, 300)
    by_key: dict[tuple[str, int], list[int]] = defaultdict(list)
    for number in Case.objects.values_list("number", flat=True):
        code, year, seq = NUMBER.match(number).groups()  # type: ignore[union-attr]
        by_key[(code, int(year))].append(int(seq))
    seqs = {(s.office.code, s.year): s.last_value for s in CaseNumberSequence.objects.select_related("office")}
    assert set(seqs) == set(by_key)
    for key, values in by_key.items():
        assert sorted(values) == list(range(1, len(values) + 1))
        assert seqs[key] == len(values)
    existing = set(Case.objects.values_list("number", flat=True))
    with transaction.atomic():
        for code, year in by_key:
            assert case_next_number(office=Office.objects.get(code=code), year=year) not in existing
    # A second run continues the numbering.
    _generate(tree, 200, seed=2)
    assert Case.objects.count() == 500
    assert Case.objects.values("number").distinct().count() == 500


def test_every_case_has_access_rows_a_reporter_a_party_and_events(cases: list[Case]) -> None:
    n = len(cases)
    assert Reporter.objects.count() == n and ReportedParty.objects.count() == n
    access = defaultdict(set)
    for a in CaseAccess.objects.all():
        access[a.case_id].add(a.office_id)
    moved = 0
    for c in cases:
        expected = {c.holding_office_id, c.received_office_id}
        assert access[c.id] == expected
        moved += c.holding_office_id != c.received_office_id
        if c.holding_office_id != c.received_office_id:
            assert c.received_office_id == c.holding_office.parent_id
            assert c.source in ("transferred", "assigned") and c.handling_mode in ("", "transfer", "assign")
    assert moved > 0
    mismatched = CaseAccess.objects.raw(
        "SELECT a.id FROM cases_caseaccess a JOIN cases_case c ON c.id = a.case_id WHERE a.received_at <> c.received_at"
    )
    assert list(mismatched) == []


def test_events_replay_to_the_final_state(cases: list[Case]) -> None:
    events = defaultdict(list)
    for e in CaseEvent.objects.order_by("created_at", "id"):
        events[e.case_id].append(e)
    for c in cases:
        evs = events[c.id]
        assert evs[0].action == "register" and evs[0].from_status == "" and evs[0].to_status == S.RECEIVED
        assert evs[0].created_at == c.received_at and evs[0].office_id == c.received_office_id
        state: str = S.RECEIVED
        for e in evs[1:]:
            assert e.from_status == state, (c.number, [(x.action, x.from_status, x.to_status) for x in evs])
            state = e.to_status
        assert state == c.status
        assert evs[-1].created_at <= c.updated_at
        if c.status_changed_at:
            assert c.status_changed_at == max(e.created_at for e in evs if e.from_status != e.to_status)


def test_states_agree_with_their_fields(cases: list[Case]) -> None:
    handled = {S.DISPOSED, S.SHELVED, S.CONCLUDED, S.FED_BACK, S.ARCHIVED}
    for c in cases:
        st = c.status
        assert c.region_code.startswith(c.holding_office.region_code) or c.holding_office != c.received_office
        if st in (S.RECEIVED, S.SCREENED, S.ACCEPTED):
            assert not c.disposal_way and c.concluded_at is None and c.archived_at is None
        if st == S.NOT_ACCEPTED:
            assert c.not_accepted_reason
        if st == S.REPEAT:
            assert c.is_repeat and c.repeat_of_id and c.repeat_of_id < c.id
        if c.is_repeat:
            assert st in (S.REPEAT, S.ARCHIVED)
        if st == S.SHELVED:
            assert c.disposal_way == "shelved"
        if st == S.DISPOSED:
            assert c.disposal_way in ("inquiry", "verification", "closed", "investigation")
        if c.disposal_way:
            assert c.study_opinion and (st in handled)
        if c.inquiry_outcome:
            assert c.disposal_way == "inquiry"
        if st == S.CONCLUDED or (st in (S.FED_BACK, S.ARCHIVED) and c.disposal_way):
            assert c.substantiation and c.conclusion and c.concluded_at
        if c.concluded_at:
            assert c.disposal_way and c.disposal_way != "shelved"
            if c.disposal_way == "inquiry":
                assert c.inquiry_outcome
        if st == S.FED_BACK:
            assert c.fed_back_at and c.is_real_name
            assert c.concluded_at or c.not_accepted_reason  # told the result, or where to go instead
        if c.satisfaction is not None or c.problem_solved is not None:
            assert c.fed_back_at and 1 <= c.satisfaction <= 5 and c.problem_solved is not None  # type: ignore[operator]
        if st == S.ARCHIVED:
            assert c.archived_at
        if c.acceptance_notified_at:
            assert c.is_real_name
        if st in (S.FED_BACK, S.ARCHIVED, S.NOT_ACCEPTED, S.REPEAT):
            assert c.next_due is None and c.deadline_level == 0
        if c.is_group_visit:
            assert c.channel == "visit" and c.head_count and c.head_count >= 5
        assert c.is_real_name == (not c.reporter.is_anonymous)


def test_deadlines_agree_with_the_deadline_service(cases: list[Case]) -> None:
    services = pytest.importorskip("qingfeng.deadlines.services")
    rules = pytest.importorskip("qingfeng.deadlines.rules")
    calendar = pytest.importorskip("qingfeng.deadlines.calendar")
    today = timezone.localdate()
    for c in cases:
        received = timezone.localtime(c.received_at).date()
        if c.received_office_id == c.holding_office_id:
            assert c.screening_due == calendar.add_working_days(received, 5)
        open_ = services.open_deadlines(c)
        if not open_:
            assert c.next_due is None and c.next_due_kind == ""
            continue
        kind, due = min(open_.items(), key=lambda item: item[1])
        assert (c.next_due, c.next_warn_on) == (due, rules.rule(kind).warn_on(due)), c.number
        assert c.next_serious_on == rules.rule(kind).serious_on(due)
        assert c.deadline_level == services.level_on(c, today).value
    levels = Counter(c.deadline_level for c in cases if c.next_due)
    assert levels[0] > 0 and levels[2] + levels[3] > 0  # some on time, some overdue


def test_real_name_reporters_are_encrypted_at_rest(cases: list[Case]) -> None:
    real = list(Reporter.objects.filter(is_anonymous=False))
    assert 0.3 < len(real) / len(cases) < 0.7
    with connection.cursor() as cur:
        cur.execute(
            "SELECT name, phone, id_number, name_hash, phone_hash FROM cases_reporter WHERE is_anonymous = %s", [False]
        )
        raw = cur.fetchall()
    by_hash = {r.phone_hash: r for r in real}
    for name, phone, id_number, n_hash, p_hash in raw:
        assert name.startswith(crypto.PREFIX) and phone.startswith(crypto.PREFIX)
        assert id_number == "" or id_number.startswith(crypto.PREFIX)
        plain = by_hash[p_hash]
        assert plain.name not in name and plain.phone not in phone
        assert crypto.decrypt(name) == plain.name and crypto.decrypt(phone) == plain.phone
        assert n_hash == crypto.name_hash(plain.name) and p_hash == crypto.phone_hash(plain.phone)
        assert re.fullmatch(r"1[3-9]\d{9}", plain.phone) and re.fullmatch(r"[\u4e00-\u9fff]{2,4}", plain.name)
        if plain.id_number:
            assert crypto.id_number_is_valid(plain.id_number)
    anonymous = Reporter.objects.filter(is_anonymous=True).first()
    assert anonymous and anonymous.name == anonymous.phone == anonymous.name_hash == ""


def test_reported_parties_are_named_in_the_texts(cases: list[Case]) -> None:
    from qingfeng.repeats.normalize import party_match_key

    parties = {p.case_id: p for p in ReportedParty.objects.all()}
    named = 0
    for c in cases:
        p = parties[c.id]
        assert p.name and p.match_key == party_match_key(p.name, p.unit)
        assert p.region_code == c.region_code
        if p.kind == "person" and c.item_type == "accusation":
            named += p.name in c.title + c.description
    assert named > 0.9 * sum(1 for c in cases if c.item_type == "accusation" and parties[c.id].kind == "person")


def test_one_category_per_case_when_categories_exist(tree: dict[str, Office]) -> None:
    from qingfeng.cases.models import Category, Tag

    if not Category.objects.exists():  # normally loaded by a data migration
        Category.objects.create(code="other", name="其他", path="/other/")
        Tag.objects.create(code="rural", name="乡村振兴", kind="key_area")
    _generate(tree, 200)
    assert Case.categories.through.objects.count() == 200
    assert Case.tags.through.objects.exists()
    assert Case.objects.filter(categories=None).count() == 0


def test_search_words_are_filled_as_registration_fills_them(cases: list[Case]) -> None:
    from qingfeng.core.text import search_document

    for c in cases[:100]:
        assert c.search_tokens.startswith(" ") and c.search_tokens.endswith(" ")
        words = c.search_tokens.split()
        assert len(words) == len(set(words))
        expected = set(search_document(c.title, c.description, c.keywords).split())
        assert len(expected & set(words)) >= 0.9 * len(expected)
    found = Case.objects.filter(search_tokens__contains=f" {cases[0].search_tokens.split()[0]} ")
    assert cases[0] in found


def test_the_mix_looks_like_real_work(cases: list[Case]) -> None:
    n = len(cases)
    channels = Counter(c.channel for c in cases)
    assert 0.25 < channels["letter"] / n < 0.45 and channels["online"] / n > 0.25
    assert channels["phone"] > 0 and channels["visit"] > 0
    statuses = Counter(c.status for c in cases)
    assert len(statuses) >= 9, statuses
    assert Counter(c.item_type for c in cases)["accusation"] / n > 0.4
    assert any(c.is_repeat and c.repeat_of_id for c in cases)
    assert any(c.is_group_visit for c in cases)
    regions = Counter(c.region_code for c in cases)
    assert regions["110101"] and regions["110102"] and regions["110101001"] + regions["110101002"]  # sub-districts too
    assert min(c.received_at for c in cases).date() <= START + timedelta(days=15)
    assert max(c.received_at for c in cases).date() >= END - timedelta(days=30)


def test_the_same_seed_gives_the_same_cases(tree: dict[str, Office]) -> None:
    def snapshot() -> list[tuple[str, ...]]:
        return list(Case.objects.order_by("id").values_list("title", "status", "channel", "region_code"))

    _generate(tree, 120, seed=9)
    first = snapshot()
    Case.objects.all().delete()
    _generate(tree, 120, seed=9)
    assert snapshot() == first
    Case.objects.all().delete()
    _generate(tree, 120, seed=10)
    assert snapshot() != first


def test_texts_come_from_the_shared_message_board_when_it_is_there(tree: dict[str, Office]) -> None:
    messages = list(textgen.iter_shared_messages())
    if not messages:
        pytest.skip("the shared complaint texts (../shared/data/complaints) are not on this machine")
    _generate(tree, 80, use_shared_texts=True)
    bodies = {re.sub(r"[A-Z]\d*[市区县]", "", body) for _, body in messages}
    for c in Case.objects.select_related("holding_office__parent"):
        parent = c.holding_office.parent
        assert parent is not None
        places = {region_name_of(c.holding_office), region_name_of(parent)}
        text = c.description
        for place in sorted(places, key=len, reverse=True):
            text = text.replace(place, "")
        assert any(text.startswith(body) for body in bodies)  # a repeat adds a line at the end


def test_the_command_needs_offices(db: None) -> None:
    with pytest.raises(CommandError, match="load_offices"):
        call_command("generate_cases", "--count", "5", stdout=StringIO())


def test_the_command_reports_progress_and_rate(tree: dict[str, Office]) -> None:
    out = StringIO()
    call_command("generate_cases", "--count", "40", "--under", "1101", "--no-shared-texts", "--seed", "3", stdout=out)
    assert "Created 40 cases" in out.getvalue() and "cases/s" in out.getvalue()
    assert set(Case.objects.values_list("holding_office__code", flat=True)) <= {"110101", "110102", "1101"}
    with pytest.raises(CommandError, match="9999"):
        call_command("generate_cases", "--count", "5", "--offices", "110101,9999", stdout=StringIO())
    args = ["--count", "10", "--offices", "110102", "--start", "2025-01-01", "--end", "2025-01-31"]
    call_command("generate_cases", *args, stdout=StringIO())
    assert Case.objects.count() == 50


@pytest.mark.django_db(transaction=True)
def test_committed_batches_are_consistent_when_several_connections_write() -> None:
    # Outside a test transaction PostgreSQL writes with two connections; SQLite with one.
    from qingfeng.factories import make_office

    city = make_office("3301", "杭州市纪委监委")
    offices = [
        make_office(code, f"{name}纪委监委", city) for code, name in (("330102", "上城区"), ("330105", "拱墅区"))
    ]
    assert generate_cases(count=900, offices=offices, seed=4, start=START, end=END, batch_size=100) == 900
    cases = list(Case.objects.order_by("id"))
    ids = [c.id for c in cases]
    assert len(cases) == 900 and ids == list(range(ids[0], ids[0] + 900))
    assert len({c.number for c in cases}) == 900
    assert all(c.repeat_of_id < c.id for c in cases if c.repeat_of_id)
    assert Reporter.objects.count() == ReportedParty.objects.count() == 900
    assert CaseEvent.objects.filter(action="register").count() == 900
    last = {(s.office.code, s.year): s.last_value for s in CaseNumberSequence.objects.select_related("office")}
    for number in Case.objects.values_list("number", flat=True):
        code, year, seq = NUMBER.match(number).groups()  # type: ignore[union-attr]
        assert int(seq) <= last[(code, int(year))]
    # Ids continue after the generated ones.
    new = Case.objects.create(
        number="x-1", received_office=offices[0], holding_office=offices[0], received_at=timezone.now(),
        channel="letter", region_code="330102", title="t", description="d",
    )  # fmt: skip
    assert new.id > ids[-1]


def _index_names() -> set[str]:
    from qingfeng.intake.synthetic import _secondary_indexes, bulk_tables

    return {name for name, _, _ in _secondary_indexes(bulk_tables())}


def test_a_large_load_drops_the_secondary_indexes_and_builds_them_again(tree: dict[str, Office]) -> None:
    from qingfeng.intake.synthetic import dropped_indexes

    before = _index_names()
    assert "access_office_recv" in before and "event_case_time" in before
    notes: list[str] = []
    assert _generate(tree, 200, indexes="rebuild", note=notes.append) == 200
    assert _index_names() == before and dropped_indexes() == []
    assert any("dropped" in n for n in notes) and any("rebuilt" in n for n in notes)
    # Unique indexes and constraints were never dropped: a clashing number is refused.
    with pytest.raises(IntegrityError), transaction.atomic():
        first = Case.objects.first()
        assert first is not None
        Case.objects.filter(pk=Case.objects.last().pk).update(number=first.number)  # type: ignore[union-attr]


def test_indexes_left_dropped_by_an_interrupted_load_are_rebuilt_by_the_next_run(tree: dict[str, Office]) -> None:
    from qingfeng.intake.synthetic import drop_secondary_indexes, dropped_indexes

    before = _index_names()
    dropped = drop_secondary_indexes()  # what a killed load leaves behind: dropped, and recorded
    assert set(dropped) == before and _index_names() == set()
    assert {name for name, _, _ in dropped_indexes()} == before
    notes: list[str] = []
    _generate(tree, 20, indexes="keep", note=notes.append)
    assert _index_names() == before and dropped_indexes() == []
    assert any("interrupted" in n for n in notes)


def test_the_command_restores_dropped_indexes_on_its_own(tree: dict[str, Office]) -> None:
    from qingfeng.intake.synthetic import drop_secondary_indexes

    before = _index_names()
    drop_secondary_indexes()
    out = StringIO()
    call_command("generate_cases", "--restore-indexes", stdout=out)
    assert _index_names() == before and "Rebuilt" in out.getvalue()
    out = StringIO()
    call_command("generate_cases", "--restore-indexes", stdout=out)
    assert "No index" in out.getvalue()


@pytest.mark.postgres
def test_visible_to_lists_the_offices_with_access(cases: list[Case]) -> None:
    with connection.cursor() as c:
        c.execute(
            "SELECT c.id, c.visible_to, COALESCE((SELECT array_agg(a.office_id ORDER BY a.office_id)"
            " FROM cases_caseaccess a WHERE a.case_id = c.id AND NOT a.hidden), '{}') FROM cases_case c"
        )
        rows = c.fetchall()
    assert len(rows) == len(cases)
    assert [r for r in rows if r[1] != r[2]] == []
    assert any(len(r[1]) == 2 for r in rows)  # transferred or assigned cases: sender and holder
