"""The models move to three apps of their own: the statistics returns ("returns"), the
assessment ("scoring") and the generated reports ("reports"); the returns' models are renamed
on the way (ServiceReport → ServiceReturn, AssetReport → AssetReturn, ReportingWindow →
ReturnWindow).

No row is copied: each table is renamed to its new app's default name, the models leave this
app's state here, and each new app's 0001 creates them in its state only. Constraint and index
names stay as they are in the database. The content types (and their permissions) are renamed
with the models, so admin history and permissions follow them.
"""

from django.db import migrations

# (old model, new app, new model)
MOVES = [
    ("reportingwindow", "returns", "returnwindow"),
    ("servicereport", "returns", "servicereturn"),
    ("assetreport", "returns", "assetreturn"),
    ("figurechange", "returns", "figurechange"),
    ("assessmentscheme", "scoring", "assessmentscheme"),
    ("dimension", "scoring", "dimension"),
    ("score", "scoring", "score"),
    ("scorechange", "scoring", "scorechange"),
    ("inspection", "scoring", "inspection"),
    ("satisfactionresponse", "scoring", "satisfactionresponse"),
    ("reportrun", "reports", "reportrun"),
    ("jointmeeting", "reports", "jointmeeting"),
    ("meetingdecision", "reports", "meetingdecision"),
]
# Dependents before what they point to, so the state never holds a dangling reference.
DELETE_ORDER = [
    "ScoreChange",
    "Score",
    "Inspection",
    "Dimension",
    "AssessmentScheme",
    "SatisfactionResponse",
    "MeetingDecision",
    "JointMeeting",
    "ReportRun",
    "FigureChange",
    "ServiceReport",
    "AssetReport",
    "ReportingWindow",
]


def _rename_content_types(apps, moves):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for (old_app, old_model), (new_app, new_model) in moves:
        # A fresh database has no rows yet (post_migrate makes them); one that already has the
        # new row (a migration run halfway before) keeps it and leaves the old one alone.
        if ContentType.objects.filter(app_label=new_app, model=new_model).exists():
            continue
        ct = ContentType.objects.filter(app_label=old_app, model=old_model).first()
        if ct is None:
            continue
        ct.app_label, ct.model = new_app, new_model
        ct.save(update_fields=["app_label", "model"])
        if old_model != new_model:
            for permission in Permission.objects.filter(content_type=ct):
                action, _sep, rest = permission.codename.partition("_")
                if rest == old_model:
                    permission.codename = f"{action}_{new_model}"
                    permission.save(update_fields=["codename"])
    ContentType.objects.clear_cache()


def forwards(apps, schema_editor):
    _rename_content_types(
        apps, [(("evaluation", old), (app, new)) for old, app, new in MOVES]
    )


def backwards(apps, schema_editor):
    _rename_content_types(
        apps, [((app, new), ("evaluation", old)) for old, app, new in MOVES]
    )


class Migration(migrations.Migration):

    dependencies = [
        ("evaluation", "0003_report_ancestor_copies"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name=old, table=f"{app}_{new}")
                for old, app, new in MOVES
            ],
            state_operations=[migrations.DeleteModel(name=name) for name in DELETE_ORDER],
        ),
        migrations.RunPython(forwards, backwards),
    ]
