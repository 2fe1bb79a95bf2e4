"""Indexes of characters and character pairs for hall searches of one or two characters, on
PostgreSQL only (SQLite keeps scanning).

A pattern of one or two characters holds no trigram, so the trigram indexes of 0012 cannot serve
it (东村 was counted by a scan of about 125,000 rows; 王, which matches nothing, by a scan of
the nation). ``hall_search_grams(text)`` gives every character and every pair of adjacent
characters of a text; a GIN index on ``hall_search_grams(UPPER(field::text))`` per searched
field answers ``@> ARRAY[UPPER(form)]``, which ``network.search.name_search_q`` asks for a form of
one or two characters. pg_bigm would do the same, but it is not in PostgreSQL's contrib and
cannot be assumed on a server.

The function keeps duplicates (GIN stores each key of a row once) and is written in PL/pgSQL,
which built the national network's arrays faster than a SQL set query (7 µs a name against
10–30 µs). It must stay IMMUTABLE: the indexes store what it returns. It is marked PARALLEL
RESTRICTED although it could run in a worker, so that a search through these indexes is never
planned in parallel: starting the workers cost more than the lookups themselves (on the
national network at load 5 on 2 cores, the API's count of 新村 took 24 ms in parallel and 6 ms
without, its page 44 ms and 6 ms).
"""

from django.db import migrations

FIELDS = ("name", "plaque_name", "locality", "code")

FUNCTION = """
CREATE OR REPLACE FUNCTION hall_search_grams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL RESTRICTED AS $$
DECLARE
    grams text[] := string_to_array(t, NULL);
BEGIN
    FOR i IN 1 .. char_length(t) - 1 LOOP
        grams := grams || substr(t, i, 2);
    END LOOP;
    RETURN grams;
END
$$
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for field in FIELDS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS hall_{field}_grams ON network_hall "
            f"USING gin (hall_search_grams(UPPER({field}::text)))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for field in FIELDS:
        schema_editor.execute(f"DROP INDEX IF EXISTS hall_{field}_grams")
    schema_editor.execute("DROP FUNCTION IF EXISTS hall_search_grams(text)")


class Migration(migrations.Migration):
    dependencies = [("network", "0012_hall_search_trigrams")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
