from __future__ import annotations

import pytest

from qingfeng.factories import make_office
from qingfeng.offices.models import Office


@pytest.fixture
def tree(db) -> dict[str, Office]:
    """A small office tree: national > province 11 > city 1101 > counties 110101, 110102 > sub-districts."""
    nat = make_office("0", "国家监委")
    p = make_office("11", "北京市纪委监委", nat)
    c = make_office("1101", "市辖区纪委监委", p)
    a = make_office("110101", "东城区纪委监委", c)
    b = make_office("110102", "西城区纪委监委", c)
    s = make_office("110101001", "东华门街道纪工委", a)
    s2 = make_office("110101002", "景山街道纪工委", a)
    p2 = make_office("12", "天津市纪委监委", nat)
    return {"national": nat, "province": p, "city": c, "county": a, "sibling": b, "street": s, "street2": s2, "province2": p2}
