# The orders (点单) move to their own app, ``activities.orders`` (label ``orders``). Their tables
# are renamed to that app's default names and keep every row, index and constraint (with the
# names they have); in this app's state the models are deleted, and orders/0001_initial creates
# them there without touching the database.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('activities', '0002_menuitem_demandorder_orderevent_and_more'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name='menuitem', table='orders_menuitem'),
                migrations.AlterModelTable(name='demandorder', table='orders_order'),
                migrations.AlterModelTable(name='orderevent', table='orders_orderevent'),
            ],
            state_operations=[
                migrations.DeleteModel(name='OrderEvent'),
                migrations.DeleteModel(name='DemandOrder'),
                migrations.DeleteModel(name='MenuItem'),
            ],
        ),
    ]
