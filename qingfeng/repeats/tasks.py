"""Background work of repeat detection: embedding the cases registered without a vector."""

from __future__ import annotations

import logging

from celery import shared_task

from qingfeng.repeats.services import repeat_fill_vectors

logger = logging.getLogger(__name__)


@shared_task(name="qingfeng.repeats.tasks.repeat_embed_missing_task")
def repeat_embed_missing_task(case_ids: list[int] | None = None) -> int:
    """Embed the given cases (dispatched at registration) or, without ids, every case still lacking a vector.

    A failure is logged, not raised: the case is registered and findable by text, identity and
    party already, and the periodic sweep (no ids) embeds whatever is left. Raising here would
    turn an eager in-process run into an error page after the registration committed.
    """
    try:
        return repeat_fill_vectors(case_ids=case_ids)
    except Exception:
        logger.exception("embedding cases for repeat detection failed; the periodic sweep will retry")
        return 0
