"""Re-encrypt every EncryptedTextField value under the first key of QINGFENG_FIELD_KEYS.

Keys listed after the first keep decrypting, so the command can run while the site is up.
Idempotent: a value already under the first key is left alone. Runs in batches, one
transaction per batch; prints per-field counts.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction

from qingfeng.core import crypto
from qingfeng.core.crypto import EncryptedTextField


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    out = []
    for model in apps.get_models():
        names = [f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names and not model._meta.proxy:
            out.append((model, names))
    return out


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields under the first key of QINGFENG_FIELD_KEYS."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        batch = max(1, int(options["batch_size"]))
        primary = Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode())
        totals: dict[str, int] = {}
        for model, names in encrypted_fields():
            label = model._meta.label
            rotated = unchanged = 0
            last_pk: Any = None
            while True:
                with transaction.atomic():
                    # Raw tokens: .values() still runs from_db_value, so read the columns by SQL expression.
                    qs = model._default_manager.order_by("pk")
                    if last_pk is not None:
                        qs = qs.filter(pk__gt=last_pk)
                    pks = list(qs.values_list("pk", flat=True)[:batch])
                    if not pks:
                        break
                    rows = _raw_rows(model, names, pks)
                    for pk, values in rows:
                        changes: dict[str, str] = {}
                        for name, token in zip(names, values, strict=True):
                            if not token:
                                continue
                            if _under_primary(primary, token):
                                unchanged += 1
                                continue
                            try:
                                changes[name] = crypto.rotate(token)
                            except InvalidToken as exc:
                                raise CommandError(f"{label} pk={pk} field {name}: no key decrypts it") from exc
                        if changes:
                            _raw_update(model, pk, changes)
                            rotated += len(changes)
                    last_pk = pks[-1]
            totals[label] = rotated
            self.stdout.write(f"{label}: {rotated} value(s) re-encrypted, {unchanged} already under the first key")
        from qingfeng.protection.services import audit_record

        audit_record(
            actor=None,
            action="key_rotation",
            object_type="field_keys",
            object_id="",
            office=None,
            detail={"rotated": totals, "keys": len(settings.FIELD_ENCRYPTION_KEYS)},
        )
        self.stdout.write(self.style.SUCCESS(f"Done: {sum(totals.values())} value(s) re-encrypted."))


def _under_primary(primary: Fernet, token: str) -> bool:
    try:
        primary.decrypt(token[len(crypto.PREFIX) :].encode("ascii"))
    except (InvalidToken, ValueError):
        return False
    return True


def _columns(model: type[models.Model]) -> tuple[str, str, dict[str, str]]:
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    return str(meta.db_table), str(pk.column), {f.attname: str(f.column) for f in meta.concrete_fields}


def _raw_rows(model: type[models.Model], names: list[str], pks: list[Any]) -> list[tuple[Any, list[str]]]:
    """The stored tokens, read by SQL: the ORM would decrypt them on the way out."""
    table, pk_col, columns = _columns(model)
    qn = connection.ops.quote_name
    cols = ", ".join(qn(columns[n]) for n in names)
    placeholders = ", ".join(["%s"] * len(pks))
    sql = f"SELECT {qn(pk_col)}, {cols} FROM {qn(table)} WHERE {qn(pk_col)} IN ({placeholders})"
    with connection.cursor() as cur:
        cur.execute(sql, pks)
        return [(row[0], list(row[1:])) for row in cur.fetchall()]


def _raw_update(model: type[models.Model], pk: Any, changes: dict[str, str]) -> None:
    table, pk_col, columns = _columns(model)
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(columns[n])} = %s" for n in changes)
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {qn(table)} SET {sets} WHERE {qn(pk_col)} = %s", [*changes.values(), pk])
