from django.db import migrations

# Indexes that a bulk load (intake.synthetic, `generate_cases`) dropped and has not rebuilt yet.
# A row is written in the transaction that drops its index and deleted in the one that builds
# it again, so an interrupted load leaves a record to repair from. No model: only that code uses it.


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_default_categories_tags")]
    operations = [
        migrations.RunSQL(
            "CREATE TABLE cases_bulk_dropped_index ("
            " name varchar(200) NOT NULL PRIMARY KEY,"
            " table_name varchar(200) NOT NULL,"
            " definition text NOT NULL)",
            "DROP TABLE cases_bulk_dropped_index",
        )
    ]
