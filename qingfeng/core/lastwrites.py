"""Writes to rows that every transaction shares, held back to the end of a service's transaction.

A row lock lasts until commit. The count tables' national and provincial rows and the audit
chain head are touched by every registration; locked early, they serialise whole registrations
(every statement after them, and the commit). Taken as the last statements, they serialise
only the commits.

A service wraps its transaction's body in `hot_rows_last()`; code deep inside (event hooks,
registration hooks) asks `slot(...)` for the accumulator of its kind of write and adds to it
instead of writing. On the block's normal exit, still inside the transaction, each slot is
written once, in `order`. Outside a block `slot` returns None and callers write at once.
An exception skips the writes; the transaction rolls back anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_open: ContextVar[dict[str, tuple[int, Any, Callable[[Any], None]]] | None] = ContextVar(
    "qingfeng_last_writes", default=None
)


@contextmanager
def hot_rows_last() -> Iterator[None]:
    """Collect the hot-row writes of the enclosed code and make them at the end of the block.

    Use inside the transaction (`with transaction.atomic(), hot_rows_last():`). Nested blocks
    join the outermost one.
    """
    if _open.get() is not None:
        yield
        return
    slots: dict[str, tuple[int, Any, Callable[[Any], None]]] = {}
    token = _open.set(slots)
    try:
        yield
    finally:
        _open.reset(token)
    # Reached only on a normal exit: the writes run in the caller's transaction, before commit.
    for _order, value, write in sorted(slots.values(), key=lambda s: s[0]):
        write(value)


def slot(name: str, *, order: int, factory: Callable[[], T], write: Callable[[T], None]) -> T | None:
    """The open block's accumulator `name` (made by `factory` on first use), or None outside a block."""
    slots = _open.get()
    if slots is None:
        return None
    if name not in slots:
        slots[name] = (order, factory(), write)
    value: T = slots[name][1]
    return value
