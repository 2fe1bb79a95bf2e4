# The content types of the moved models follow them (activities.demandorder → orders.order,
# ...), keeping their ids, so the admin's history and any permission granted stay attached; the
# permissions' codenames follow the model's new name. On a fresh database there is nothing to
# move yet (content types are created after migrating). Where the new content type exists
# already (created by a migrate run between the two migrations), the old one is left for
# ``remove_stale_contenttypes``.

from django.db import migrations

MOVES = [
    (('activities', 'menuitem'), ('orders', 'menuitem')),
    (('activities', 'demandorder'), ('orders', 'order')),
    (('activities', 'orderevent'), ('orders', 'orderevent')),
]
ACTIONS = ('add', 'change', 'delete', 'view')


def _move(apps, schema_editor, moves):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    Permission = apps.get_model('auth', 'Permission')
    db = schema_editor.connection.alias
    for (old_app, old_model), (new_app, new_model) in moves:
        content_type = ContentType.objects.using(db).filter(
            app_label=old_app, model=old_model
        ).first()
        if content_type is None:
            continue
        if ContentType.objects.using(db).filter(app_label=new_app, model=new_model).exists():
            continue
        content_type.app_label, content_type.model = new_app, new_model
        content_type.save(update_fields=['app_label', 'model'])
        if old_model != new_model:
            for action in ACTIONS:
                Permission.objects.using(db).filter(
                    content_type=content_type, codename=f'{action}_{old_model}'
                ).update(codename=f'{action}_{new_model}')


def forwards(apps, schema_editor):
    _move(apps, schema_editor, MOVES)


def backwards(apps, schema_editor):
    _move(apps, schema_editor, [(new, old) for old, new in MOVES])


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('auth', '0012_alter_user_first_name_max_length'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
