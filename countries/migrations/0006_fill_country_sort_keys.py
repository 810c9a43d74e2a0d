"""Data migration: the sort keys of the countries already stored (new and renamed ones get theirs from save())."""

from django.db import migrations


def fill(apps, schema_editor):
    from core.i18n import sort_key

    Country = apps.get_model("countries", "Country")
    rows = list(Country.objects.all())
    for country in rows:
        country.sort_en, country.sort_fr = sort_key(country.name_en), sort_key(country.name_fr or country.name_en)
    Country.objects.bulk_update(rows, ["sort_en", "sort_fr"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("countries", "0005_country_sort_keys")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
