"""WSGI app for `cases_api.py --without ...`: registration with parts of its work taken out.

Nothing here is a way to run Qingfeng. It answers one question with a measurement: how fast can
`POST /api/v1/cases/` be on this machine if a part of what the issues require were free?

* `QF_BENCH_WITHOUT=write`: `case_register` runs unchanged (authentication, parsing, validation,
  preparing the rows: segmentation, deadlines, encryption) but its `_write` writes nothing: no
  number, case, index, counts or audit entry. The answer is built from the unsaved case.
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
    from qingfeng.cases import api
    from qingfeng.intake import services

    # Patching a name the code no longer uses would silently measure the whole request.
    for module, name in ((services, "_write"), (api, "repeat_check")):
        if not hasattr(module, name):
            raise SystemExit(f"{module.__name__} no longer has {name}: update registration_floor.py")
    if "write" in _WITHOUT:

        def write_nothing(prepared: list[Any], **_: Any) -> list[Any]:
            # case_register has validated and prepared the rows as always; only the transaction's
            # writes are skipped, and the answer is built from the unsaved cases.
            for p in prepared:
                p.case.pk, p.case.number = 0, f"{p.case.received_office.code}-unsaved"
                services._hold(p.case, "categories", p.categories)
            return [p.case for p in prepared]

        services._write = write_nothing  # type: ignore[assignment]
    if "candidates" in _WITHOUT:
        api.repeat_check = lambda **_: []  # type: ignore[assignment]


_patch()
