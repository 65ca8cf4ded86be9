from django.db import migrations, models


def path_collation_c(apps, schema_editor):
    """Compare paths byte by byte on PostgreSQL, whatever the database's locale.

    `office_subtree` selects a subtree as the range [path, path + U+FFFF). That is exactly the
    prefix set only under a byte-wise (C) collation; SQLite already compares with BINARY. The
    unique index on the column is rebuilt with the new collation, so the range stays index-backed.
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("offices", "Office")._meta.db_table)
    schema_editor.execute(f'ALTER TABLE {table} ALTER COLUMN "path" TYPE varchar(80) COLLATE "C"')


def path_collation_default(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("offices", "Office")._meta.db_table)
    schema_editor.execute(f'ALTER TABLE {table} ALTER COLUMN "path" TYPE varchar(80) COLLATE "default"')


class Migration(migrations.Migration):

    dependencies = [
        ('offices', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='office',
            name='region_name',
            field=models.CharField(blank=True, default='', max_length=100, verbose_name='region name'),
        ),
        migrations.RunPython(path_collation_c, path_collation_default, elidable=False),
    ]
