from django.db import migrations


def load(apps, schema_editor):
    from qingfeng.deadlines.calendar import read_calendar_file

    CalendarDay = apps.get_model("deadlines", "CalendarDay")
    existing = set(CalendarDay.objects.values_list("date", flat=True))
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=d, kind=k, name=n) for d, k, n in read_calendar_file() if d not in existing]
    )


class Migration(migrations.Migration):
    dependencies = [("deadlines", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
