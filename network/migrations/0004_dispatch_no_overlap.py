"""On PostgreSQL the database itself refuses two live dispatches of one resource whose periods
overlap. SQLite has no exclusion constraints; there ``network.services.dispatch_approve`` checks
under SQLite's single writer lock."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE network_dispatch ADD CONSTRAINT dispatch_no_overlap
    EXCLUDE USING gist (resource_id WITH =, tstzrange("start", "end", '[)') WITH &&)
    WHERE (status IN ('approved', 'handed_over'));
"""
DROP = "ALTER TABLE network_dispatch DROP CONSTRAINT IF EXISTS dispatch_no_overlap;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("network", "0003_resources")]

    operations = [migrations.RunPython(forwards, backwards)]
