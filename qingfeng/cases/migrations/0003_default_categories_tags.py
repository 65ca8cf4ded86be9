import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"


def load(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    Tag = apps.get_model("cases", "Tag")
    with (DATA / "categories.csv").open(encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            parent = Category.objects.filter(code=row["parent"]).first() if row["parent"] else None
            path = (parent.path if parent else "/") + row["code"] + "/"
            Category.objects.update_or_create(
                code=row["code"],
                defaults={"name": row["name"], "name_en": row["name_en"], "parent": parent, "path": path, "sort": i},
            )
    with (DATA / "tags.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            Tag.objects.update_or_create(
                code=row["code"], defaults={"name": row["name"], "name_en": row["name_en"], "kind": row["kind"]}
            )


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_search_index")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
