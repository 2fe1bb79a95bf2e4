from django.dispatch import Signal

# Sent after a hall and its subtree moved under another parent (``hall``: the moved hall, with
# its new tree numbers). Apps that copy a hall's ancestors onto their own rows follow it.
hall_moved = Signal()
