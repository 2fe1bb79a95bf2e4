"""Trigram indexes for the hall search, on PostgreSQL only (SQLite keeps scanning).

Each index is on ``UPPER(field::text)``, the expression Django's ``icontains`` compares, so
``network.search.name_search_q`` reads the index. ``CREATE EXTENSION`` needs a role that may
create it (the database owner on PostgreSQL 13+, pg_trgm being a trusted extension).
"""

from django.db import migrations

FIELDS = ("name", "plaque_name", "locality", "code")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for field in FIELDS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS hall_{field}_trgm ON network_hall "
            f"USING gin (UPPER({field}::text) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for field in FIELDS:
        schema_editor.execute(f"DROP INDEX IF EXISTS hall_{field}_trgm")


class Migration(migrations.Migration):
    dependencies = [("network", "0011_hall_division_year")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
