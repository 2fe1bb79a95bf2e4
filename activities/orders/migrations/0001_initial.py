# The orders' models, moved here from ``activities`` (DemandOrder is now Order). Their tables
# exist already: activities/0003_orders_move_out renamed them to this app's names, so this
# migration only creates the models in the migration state and runs no SQL.

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('activities', '0003_orders_move_out'),
        ('network', '0002_staff_records'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='MenuItem',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('category', models.CharField(choices=[('performance', '演出'), ('exhibition', '展览'), ('lecture', '讲座'), ('training', '培训'), ('reading', '阅读'), ('mobile', '流动服务'), ('other', '其他')], max_length=20, verbose_name='类别')),
                        ('title', models.CharField(max_length=120, verbose_name='服务名称')),
                        ('description', models.TextField(blank=True, verbose_name='服务内容')),
                        ('orderers', models.CharField(choices=[('anyone', '群众和服务点均可'), ('residents', '仅限群众'), ('points', '仅限基层服务点')], default='anyone', max_length=12, verbose_name='可点单对象')),
                        ('lead_days', models.PositiveSmallIntegerField(default=7, help_text='至少提前多少天点单', verbose_name='提前天数')),
                        ('monthly_limit', models.PositiveSmallIntegerField(blank=True, help_text='每个服务点每月最多点单次数;留空不限', null=True, verbose_name='每月限量')),
                        ('active', models.BooleanField(default=True, verbose_name='开放点单')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='创建时间')),
                        ('hall', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='menu_items', to='network.hall', verbose_name='提供馆')),
                    ],
                    options={
                        'verbose_name': '服务菜单项',
                        'verbose_name_plural': '服务菜单',
                        'ordering': ['hall_id', 'category', 'title'],
                    },
                ),
                migrations.CreateModel(
                    name='Order',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(max_length=12, unique=True, verbose_name='订单号')),
                        ('name', models.CharField(max_length=40, verbose_name='联系人')),
                        ('phone', models.CharField(max_length=11, validators=[django.core.validators.RegexValidator('^1[3-9]\\d{9}$', '请填写 11 位中国大陆手机号码,如 13800138000。')], verbose_name='手机号码')),
                        ('description', models.TextField(max_length=1000, verbose_name='需求说明')),
                        ('preferred_date', models.DateField(blank=True, null=True, verbose_name='希望日期')),
                        ('status', models.CharField(choices=[('submitted', '已提交'), ('accepted', '已受理'), ('scheduled', '已排期'), ('done', '已完成'), ('rated', '已评价'), ('rejected', '未受理')], db_index=True, default='submitted', max_length=12, verbose_name='状态')),
                        ('respond_by', models.DateTimeField(db_index=True, verbose_name='答复期限')),
                        ('escalations', models.PositiveSmallIntegerField(default=0, verbose_name='上报次数')),
                        ('reject_reason', models.CharField(blank=True, max_length=200, verbose_name='未受理原因')),
                        ('rating', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(1)], verbose_name='评分')),
                        ('rating_comment', models.CharField(blank=True, max_length=500, verbose_name='评价')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='提交时间')),
                        ('answered_at', models.DateTimeField(blank=True, null=True, verbose_name='首次答复时间')),
                        ('done_at', models.DateTimeField(blank=True, null=True, verbose_name='完成时间')),
                        ('activity', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='order', to='activities.activity', verbose_name='排期活动')),
                        ('handler', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='handled_orders', to='network.hall', verbose_name='承办馆')),
                        ('item', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='orders.menuitem', verbose_name='服务菜单项')),
                        ('point', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='network.hall', verbose_name='点单服务点')),
                        ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='服务点工作人员')),
                    ],
                    options={
                        'verbose_name': '点单',
                        'verbose_name_plural': '点单',
                        'ordering': ['created_at', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='OrderEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('from_status', models.CharField(blank=True, max_length=12, verbose_name='原状态')),
                        ('to_status', models.CharField(max_length=12, verbose_name='新状态')),
                        ('action', models.CharField(max_length=40, verbose_name='操作')),
                        ('note', models.CharField(blank=True, max_length=500, verbose_name='说明')),
                        ('by_phone', models.CharField(blank=True, max_length=11, verbose_name='操作手机号')),
                        ('at', models.DateTimeField(auto_now_add=True, verbose_name='时间')),
                        ('by_user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='操作人')),
                        ('hall', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='network.hall', verbose_name='承办馆')),
                        ('order', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='orders.order', verbose_name='点单')),
                    ],
                    options={
                        'verbose_name': '点单记录',
                        'verbose_name_plural': '点单记录',
                        'ordering': ['at', 'pk'],
                    },
                ),
                migrations.AddIndex(
                    model_name='order',
                    index=models.Index(fields=['handler', 'status', 'created_at'], name='order_inbox'),
                ),
                migrations.AddConstraint(
                    model_name='order',
                    constraint=models.CheckConstraint(condition=models.Q(('rating__isnull', True), models.Q(('rating__gte', 1), ('rating__lte', 5)), _connector='OR'), name='order_rating_1_to_5'),
                ),
            ],
        ),
    ]
