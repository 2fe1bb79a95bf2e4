"""Orders (点单): a village service point, or a resident for it, orders a service from a hall's
menu (服务菜单) or asks for something not on any menu. The order goes to a handler hall (the
menu's hall, or the branch above the village), must be answered by a deadline or it is escalated
to the hall above, is scheduled as an activity at the village, done, and rated by whoever ordered
it.

One concept, one name: in code it is the *order* (``Order``, ``order_*`` services, the ``orders``
app label, the ``/orders/`` pages). The REST API calls the same thing a *demand*: ``demands/``,
``staff/demands/`` and the schema's ``Demand*`` components are the API's published contract name
for orders and stay as they are; ``menu-items/`` is the menu.

The states and the steps between them are declared once, on ``Order`` (``Order.TRANSITIONS``,
``order.can(step)``, ``order.next_steps()``); "answered on time", "fulfilled" and "overdue" are
``Order``'s queryset methods and ``Q`` builders. Services, the admin, the API, the pages and the
reports all ask the model.

This app stands on ``activities`` (an order is scheduled as an activity) and ``network``;
``activities`` never imports it.
"""
