"""The resource catalogue and dispatch leave the foundation for their own app, ``resources``
(activities/resources/), keeping every row.

The tables are renamed in the database (``network_resource`` → ``resources_resource``, …), and the
three models are dropped from this app's migration state only; ``resources.0001_initial`` adds
them to its own state without touching the database. On PostgreSQL a renamed table keeps its
indexes and constraints under their names, the exclusion constraint ``dispatch_no_overlap`` of
migration 0004 included, and foreign keys follow the rename.

Migrations 0003 and 0004 stay as they are, with 0003's dependency on ``activities`` (the stop's
link to an activity): databases in service applied them, and a fresh database still builds the
tables through them before this migration moves them. Nothing outside migrations in ``network``
imports ``activities`` any more.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("network", "0006_leaner_hall_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="resource", table="resources_resource"),
                migrations.AlterModelTable(name="dispatch", table="resources_dispatch"),
                migrations.AlterModelTable(name="dispatchstop", table="resources_dispatchstop"),
            ],
            state_operations=[
                migrations.DeleteModel(name="DispatchStop"),
                migrations.DeleteModel(name="Dispatch"),
                migrations.DeleteModel(name="Resource"),
            ],
        ),
    ]
