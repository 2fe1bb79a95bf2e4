"""A short pending list for the hall search's GIN indexes (0012, 0013), on PostgreSQL only.

GIN collects new entries in a pending list that every search reads through until it is merged
(by VACUUM, or when it outgrows ``gin_pending_list_limit``, 4 MB by default). Ordinary tree
writes (a hall added, its tree renumbered) fill it: on the national network, after a benchmark's
inserts, each of the six index scans of a search read about 500 pending pages, and 关上第一社区 took
about 60 ms instead of 8 (docs/BENCHMARKS.md). At 256 kB a list holds at most about 30 pages, and
the search stays near 11 ms; the write that fills it merges it, so shifting 2,000 rows of a tree
took 300–340 ms instead of 150–240 ms.
"""

from django.db import migrations

INDEXES = [f"hall_{field}_{kind}" for kind in ("trgm", "grams")
           for field in ("name", "plaque_name", "locality", "code")]  # fmt: skip
LIMIT_KB = 256


def shorten(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"ALTER INDEX {index} SET (gin_pending_list_limit = {LIMIT_KB})")


def restore(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"ALTER INDEX {index} RESET (gin_pending_list_limit)")


class Migration(migrations.Migration):
    dependencies = [("network", "0013_hall_search_grams")]

    operations = [migrations.RunPython(shorten, restore, elidable=False)]
