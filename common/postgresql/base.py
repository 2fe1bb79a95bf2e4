"""Django's PostgreSQL backend, whose health check costs no round trip to the server.

With ``CONN_HEALTH_CHECKS`` Django asks a persistent connection ``SELECT 1`` before the first
query of every request, so that a connection the server has closed since (a restart, a failover,
an administrator, an idle timeout) is replaced rather than failing the request. That was one
statement in four of a booking. A server that closes a connection says so on it (an error
message, then the end of the stream), so a connection with something to read while it is idle
is one to replace, and one with nothing to read is as usable as ``SELECT 1`` would have found it.
Settings name this module as the engine of a ``postgres://`` DATABASE_URL.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        # poll, not select: select cannot watch a descriptor numbered past 1023, which a process
        # with many files open reaches.
        poller = select.poll()
        try:
            poller.register(self.connection.fileno(), select.POLLIN)
            waiting = poller.poll(0)
        except (OSError, ValueError):  # the socket is gone
            return False
        # Nothing is sent to an idle connection of this portal (it LISTENs to nothing) but the
        # server's farewell (or, with the socket closed, a hang-up); anything else read there
        # would be a reason to start afresh anyway.
        return not waiting
