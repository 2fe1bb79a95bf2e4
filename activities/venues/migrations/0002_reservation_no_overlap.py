"""On PostgreSQL the database itself refuses two live reservations of one venue whose ranges
overlap, whatever the number of web processes. SQLite has no exclusion constraints; there
``activities.venues.services`` locks the venue's row and checks, under SQLite's single writer."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE venues_reservation ADD CONSTRAINT reservation_no_overlap
    EXCLUDE USING gist (venue_id WITH =, tstzrange("start", "end", '[)') WITH &&)
    WHERE (status IN ('pending', 'confirmed', 'checked_in'));
"""
DROP = "ALTER TABLE venues_reservation DROP CONSTRAINT IF EXISTS reservation_no_overlap;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("venues", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
