"""WSGI app for `cases_api.py --without ...`: registration with parts of its work taken out.

Nothing here is a way to run Qingfeng. It answers one question with a measurement: how fast can
`POST /api/v1/cases/` be on this machine if a part of what the issues require were free?

* `QF_BENCH_WITHOUT=write`: the request is authenticated, parsed, validated and prepared
  (segmentation, deadlines, encryption) exactly as in `case_register`, then nothing is written:
  no number, case, index, counts or audit entry. The answer is built from the unsaved case.
* `QF_BENCH_WITHOUT=candidates`: the answer carries no repeat candidates (issue 4 requires them).
* both, comma-separated: the request floor (authentication, DRF, validation, preparing the rows).

If the request without its write is already slower than a target, no change to how the
registration transaction writes (group commit across requests, fewer statements) can reach it.
"""

from __future__ import annotations

import os
from typing import Any

from qingfeng.wsgi import application  # noqa: F401  (sets Django up; gunicorn serves this)

_WITHOUT = {part.strip() for part in os.environ.get("QF_BENCH_WITHOUT", "").split(",") if part.strip()}
_UNKNOWN = _WITHOUT - {"write", "candidates"}
if _UNKNOWN:
    raise SystemExit(f"QF_BENCH_WITHOUT: unknown parts {sorted(_UNKNOWN)} (write, candidates)")


def _patch() -> None:
    from django.utils import timezone

    from qingfeng.cases import api
    from qingfeng.intake import services

    for name in ("case_register", "repeat_check"):
        # Patching a name the view no longer uses would silently measure the whole request.
        if not hasattr(api, name):
            raise SystemExit(f"qingfeng.cases.api no longer calls {name}: update registration_floor.py")
    if "write" in _WITHOUT:

        def register_nothing(*, data: Any, office: Any, actor: Any, **_: Any) -> Any:
            checked = services.validate_registration(data)
            prepared = services._prepare(data, checked, office=office, actor=actor, now=timezone.now())
            case = prepared.case
            case.pk, case.number = 0, f"{office.code}-unsaved"  # what the answer shows; never stored
            services._hold(case, "categories", prepared.categories)
            return case

        api.case_register = register_nothing  # type: ignore[assignment]
    if "candidates" in _WITHOUT:
        api.repeat_check = lambda **_: []  # type: ignore[assignment]


_patch()
