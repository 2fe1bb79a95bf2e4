"""The residents' own channel: a phone verified by SMS code, the token that proves it, and the
messages sent to it (with their delivery records).

It stands on ``common`` alone. Activities, orders and scoring import it (to ask who is verified
and to send a message); it imports none of them, so what a message says comes in as parameters.
"""
