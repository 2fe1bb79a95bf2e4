"""The resource catalogue and dispatch, moved here from ``network`` with their rows.

``network.0007_resources_move_out`` renamed the tables to this app's names and dropped the models
from network's state; this migration only declares them in this app's state
(``database_operations=[]``), so a database in service keeps every row and a fresh database gets
the tables from network's migrations 0003 and 0004 before the move. On PostgreSQL the exclusion
constraint ``dispatch_no_overlap`` (network migration 0004, raw SQL and never in any state) came
along with the renamed table under the same name.

The content types follow too, so admin log entries and permissions keep pointing at the models.
"""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ("resource", "dispatch", "dispatchstop")


def _move_content_types(apps, schema_editor, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.db_manager(schema_editor.connection.alias)
    for model in MOVED:
        # As Django's own content type renames do: when the target already exists (a stale row),
        # leave both for remove_stale_contenttypes rather than fail on the unique key.
        if types.filter(app_label=target, model=model).exists():
            continue
        types.filter(app_label=source, model=model).update(app_label=target)
    types.clear_cache()


def forwards(apps, schema_editor):
    _move_content_types(apps, schema_editor, "network", "resources")


def backwards(apps, schema_editor):
    _move_content_types(apps, schema_editor, "resources", "network")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('activities', '0002_menuitem_demandorder_orderevent_and_more'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('network', '0007_resources_move_out'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Resource',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('venue', '场地'), ('equipment', '设备'), ('stage_truck', '流动舞台车'), ('team', '文艺团队'), ('talent', '文化人才'), ('work', '文艺作品'), ('digital', '数字资源')], max_length=20, verbose_name='类别')),
                        ('catalogue_no', models.CharField(editable=False, max_length=40, unique=True, verbose_name='编目号')),
                        ('name', models.CharField(max_length=120, verbose_name='名称')),
                        ('description', models.TextField(blank=True, verbose_name='说明')),
                        ('quantity', models.PositiveIntegerField(default=1, validators=[django.core.validators.MinValueValidator(1)], verbose_name='数量')),
                        ('unit', models.CharField(blank=True, help_text='如 台、套、人、支', max_length=10, verbose_name='单位')),
                        ('condition', models.CharField(choices=[('good', '完好'), ('fair', '一般'), ('damaged', '损坏待修')], default='good', max_length=10, verbose_name='状况')),
                        ('value', models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True, validators=[django.core.validators.MinValueValidator(0)], verbose_name='价值(万元)')),
                        ('contact', models.CharField(blank=True, max_length=80, verbose_name='联系人及电话')),
                        ('public', models.BooleanField(default=True, help_text='文艺团队和场地会显示在公开页面上', verbose_name='向群众公开')),
                        ('dispatchable', models.BooleanField(default=True, verbose_name='可调配')),
                        ('active', models.BooleanField(default=True, verbose_name='在用')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='登记时间')),
                        ('hall', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='resources', to='network.hall', verbose_name='所属馆')),
                    ],
                    options={
                        'verbose_name': '资源',
                        'verbose_name_plural': '资源目录',
                        'ordering': ['catalogue_no'],
                    },
                ),
                migrations.CreateModel(
                    name='Dispatch',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('purpose', models.CharField(max_length=255, verbose_name='用途')),
                        ('start', models.DateTimeField(verbose_name='开始时间')),
                        ('end', models.DateTimeField(verbose_name='结束时间')),
                        ('status', models.CharField(choices=[('requested', '申请中'), ('approved', '已批准'), ('rejected', '未批准'), ('handed_over', '已交接'), ('returned', '已归还'), ('cancelled', '已撤回')], db_index=True, default='requested', max_length=12, verbose_name='状态')),
                        ('requested_at', models.DateTimeField(auto_now_add=True, verbose_name='申请时间')),
                        ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='审批时间')),
                        ('decision_note', models.CharField(blank=True, max_length=255, verbose_name='审批意见')),
                        ('handed_over_at', models.DateTimeField(blank=True, null=True, verbose_name='交接时间')),
                        ('handover_condition', models.CharField(blank=True, choices=[('good', '完好'), ('fair', '一般'), ('damaged', '损坏待修')], max_length=10, verbose_name='交接时状况')),
                        ('handover_note', models.CharField(blank=True, max_length=255, verbose_name='交接说明')),
                        ('returned_at', models.DateTimeField(blank=True, null=True, verbose_name='归还时间')),
                        ('return_condition', models.CharField(blank=True, choices=[('good', '完好'), ('fair', '一般'), ('damaged', '损坏待修')], max_length=10, verbose_name='归还时状况')),
                        ('return_note', models.CharField(blank=True, max_length=255, verbose_name='归还说明')),
                        ('approver_hall', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='network.hall', verbose_name='审批馆')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='审批人')),
                        ('requested_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='申请人')),
                        ('requesting_hall', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='network.hall', verbose_name='申请馆')),
                        ('resource', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='dispatches', to='resources.resource', verbose_name='资源')),
                    ],
                    options={
                        'verbose_name': '资源调配',
                        'verbose_name_plural': '资源调配',
                        'ordering': ['-start', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='DispatchStop',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('order', models.PositiveSmallIntegerField(verbose_name='站序')),
                        ('activity', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='dispatch_stop', to='activities.activity', verbose_name='活动')),
                        ('dispatch', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='stops', to='resources.dispatch', verbose_name='调配')),
                        ('point', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='network.hall', verbose_name='服务点')),
                    ],
                    options={
                        'verbose_name': '巡演站点',
                        'verbose_name_plural': '巡演站点',
                        'ordering': ['dispatch', 'order'],
                        'constraints': [models.UniqueConstraint(fields=('dispatch', 'order'), name='dispatch_stop_order')],
                    },
                ),
                migrations.AddIndex(
                    model_name='resource',
                    index=models.Index(fields=['kind', 'hall'], name='resource_kind_hall'),
                ),
                migrations.AddIndex(
                    model_name='dispatch',
                    index=models.Index(fields=['resource', 'status', 'start'], name='dispatch_busy'),
                ),
                migrations.AddConstraint(
                    model_name='dispatch',
                    constraint=models.CheckConstraint(condition=models.Q(('end__gt', models.F('start'))), name='dispatch_ends_after_start'),
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
