"""Special topics: matching cases to an analyst's definition, as they arrive and in the background.

A case matches a topic when (any keyword is among its jieba words, or it is in one of the
topic's categories or below) and, if the topic names regions, its problem region lies in one
of them. A topic with regions only takes every case of those regions. A keyword of several
jieba words matches when all its words occur.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from qingfeng.accounts.models import User
from qingfeng.analytics import counting
from qingfeng.analytics.facts import Key, contributions
from qingfeng.analytics.models import Topic, TopicCount, TopicMatch
from qingfeng.cases.models import Case, Category
from qingfeng.core.errors import ValidationFailed
from qingfeng.core.tasks import dispatch
from qingfeng.core.text import clean_whitespace, tokens

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Matcher:
    topic_id: int
    keywords: tuple[frozenset[str], ...]
    category_paths: tuple[str, ...]
    regions: tuple[str, ...]

    def matches(self, words: set[str], category_paths: Iterable[str], region_code: str) -> bool:
        if self.regions and not any(region_code.startswith(r) for r in self.regions):
            return False
        if not self.keywords and not self.category_paths:
            return bool(self.regions)
        if any(kw <= words for kw in self.keywords):
            return True
        return any(p.startswith(cp) for p in category_paths for cp in self.category_paths)


@functools.lru_cache(maxsize=1024)
def _keyword_sets(keywords: tuple[str, ...]) -> tuple[frozenset[str], ...]:
    # Every registration matches every active topic: segment a topic's keywords once per process.
    return tuple(frozenset(words) for words in map(tokens, keywords) if words)


def matcher_for(topic: Topic, paths: dict[str, str] | None = None) -> Matcher:
    if paths is None:
        paths = dict(Category.objects.filter(code__in=topic.categories).values_list("code", "path"))
    keywords = _keyword_sets(tuple(topic.keywords))
    return Matcher(topic.pk, keywords, tuple(paths[c] for c in topic.categories if c in paths), tuple(topic.regions))


def case_words(search_tokens: str, keywords: str) -> set[str]:
    return set(search_tokens.split()) | set(tokens(keywords or ""))


# --- new cases ---------------------------------------------------------------------------------


def on_registered(cases: Sequence[Case]) -> None:
    """REGISTRATION_HOOKS entry: tag each new case with every active topic it matches."""
    topics = list(Topic.objects.filter(active=True))
    if not topics:
        return
    cat_codes = set()
    for t in topics:
        cat_codes.update(t.categories)
    paths = dict(Category.objects.filter(code__in=cat_codes).values_list("code", "path")) if cat_codes else {}
    matchers = [matcher_for(t, paths) for t in topics]
    found: list[tuple[Case, list[int]]] = []
    for case in cases:
        held = counting.prefetched(case, "categories")
        case_paths = (
            [c.path for c in held] if held is not None else list(case.categories.values_list("path", flat=True))
        )
        words = case_words(case.search_tokens, case.keywords)
        matched = [m.topic_id for m in matchers if m.matches(words, case_paths, case.region_code)]
        if matched:
            found.append((case, matched))
    if found:
        TopicMatch.objects.bulk_create(
            [TopicMatch(topic_id=t, case=case) for case, matched in found for t in matched], ignore_conflicts=True
        )
        for case, matched in found:
            counting.on_topics_changed(case, (), sorted(matched))


# --- definitions -------------------------------------------------------------------------------


def _clean_list(values: Any, name: str, errors: dict[str, list[str]]) -> list[str]:
    if values in (None, ""):
        return []
    if isinstance(values, str):
        values = [v for v in values.replace("，", ",").replace("、", ",").split(",")]
    if not isinstance(values, list | tuple):
        errors.setdefault(name, []).append(_("Give a list."))
        return []
    out: dict[str, None] = {}
    for v in values:
        v = clean_whitespace(str(v))
        if v:
            out.setdefault(v, None)
    return list(out)


def topic_save(
    *,
    actor: User,
    code: str,
    name: str,
    keywords: Any = (),
    categories: Any = (),
    regions: Any = (),
    description: str = "",
    active: bool = True,
    topic: Topic | None = None,
) -> Topic:
    """Create or change a topic, then tag the existing cases in the background."""
    errors: dict[str, list[str]] = {}
    kw = _clean_list(keywords, "keywords", errors)
    cats = _clean_list(categories, "categories", errors)
    regs = _clean_list(regions, "regions", errors)
    name = clean_whitespace(name)
    if not name:
        errors.setdefault("name", []).append(_("A topic needs a name."))
    if topic is None:
        if not code:
            errors.setdefault("code", []).append(_("A topic needs a code."))
        elif Topic.objects.filter(code=code).exists():
            errors.setdefault("code", []).append(_("A topic with this code exists already."))
    known = set(Category.objects.filter(code__in=cats).values_list("code", flat=True))
    if set(cats) - known:
        errors.setdefault("categories", []).append(
            _("Unknown categories: %(codes)s.") % {"codes": ", ".join(sorted(set(cats) - known))}
        )
    bad = [r for r in regs if not r.isdigit() or len(r) not in (2, 4, 6, 9)]
    if bad:
        errors.setdefault("regions", []).append(
            _("Region codes have 2, 4, 6 or 9 digits: %(codes)s.") % {"codes": ", ".join(bad)}
        )
    if not (kw or cats or regs):
        errors.setdefault("keywords", []).append(_("Give keywords, categories or regions."))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        if topic is None:
            topic = Topic(code=code, office=actor.office, created_by=actor)
        else:
            topic.version += 1
        topic.name, topic.description, topic.active = name, description, active
        topic.keywords, topic.categories, topic.regions = kw, cats, regs
        topic.tagged_at = None
        topic.save()
        dispatch(tag_existing_task, topic.pk, topic.version)
    return topic


# --- existing cases (background) ---------------------------------------------------------------


def _candidates(matcher: Matcher) -> Any:
    qs = Case.objects.all()
    if matcher.regions:
        region_q = Q()
        for r in matcher.regions:
            region_q |= Q(region_code__startswith=r)
        qs = qs.filter(region_q)
    if settings.IS_POSTGRES and (matcher.keywords or matcher.category_paths):
        # Narrow with the GIN index on the case words, then check each candidate in Python.
        where = Q()
        if matcher.keywords:
            query = " | ".join(
                "(" + " & ".join("'" + w.replace("\\", "").replace("'", "''") + "'" for w in sorted(kw)) + ")"
                for kw in matcher.keywords
            )
            # A subquery with an alias of its own: written against "cases_case" it would refer to
            # the outer row and be run once per case (a full scan at millions of cases).
            ids = RawSQL(
                "SELECT kw.id FROM cases_case kw "
                "WHERE to_tsvector('simple', kw.search_tokens) @@ to_tsquery('simple', %s)",
                [query],
            )
            where |= Q(id__in=ids)
        for p in matcher.category_paths:
            where |= Q(categories__path__startswith=p)
        qs = qs.filter(where).distinct()
    return qs


def tag_existing(topic_id: int, version: int | None = None, *, chunk_size: int = 2000) -> int:
    """(Re)tag every existing case for a topic; returns how many match."""
    topic = Topic.objects.filter(pk=topic_id).first()
    if topic is None or (version is not None and topic.version != version):
        return 0  # deleted or redefined since: the newer run does the work
    with transaction.atomic():
        TopicMatch.objects.filter(topic=topic).delete()
        TopicCount.objects.filter(topic=topic).delete()
    if not topic.active:
        return 0
    matcher = matcher_for(topic)
    through = Case.categories.through
    matched = 0
    ids = list(_candidates(matcher).order_by("id").values_list("id", flat=True))
    chains = counting.Chains.everything() if ids else None
    for i in range(0, len(ids), chunk_size):
        part = ids[i : i + chunk_size]
        rows = Case.objects.filter(id__in=part).values_list("id", "search_tokens", "keywords", "region_code")
        paths: dict[int, list[str]] = {}
        for cid, path in through.objects.filter(case_id__in=part).values_list("case_id", "category__path"):
            paths.setdefault(cid, []).append(path)
        hits = [cid for cid, st, kw, region in rows if matcher.matches(case_words(st, kw), paths.get(cid, ()), region)]
        if not hits:
            continue
        with transaction.atomic():
            TopicMatch.objects.bulk_create([TopicMatch(topic=topic, case_id=c) for c in hits], ignore_conflicts=True)
            counting.apply_delta(_topic_counts(topic.pk, hits, chains))
        matched += len(hits)
    Topic.objects.filter(pk=topic.pk, version=topic.version).update(tagged_at=timezone.now())
    return matched


def _topic_counts(topic_id: int, case_ids: Sequence[int], chains: counting.Chains | None) -> Counter[Key]:
    out: Counter[Key] = Counter()
    for facts, _rep in counting.iter_facts(ids=sorted(case_ids), chains=chains):
        for key, n in contributions(replace(facts, topics=(topic_id,))).items():
            if key[0] == "topic":
                out[key] += n
    return out


@shared_task(name="qingfeng.analytics.topics.tag_existing_task")
def tag_existing_task(topic_id: int, version: int | None = None) -> int:
    return tag_existing(topic_id, version)
