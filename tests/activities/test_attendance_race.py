"""Two staff record the same show's attendance in the same second: one row, both changes logged,
nothing lost (the activity row is locked while the attendance is written)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from activities import services
from activities.models import Attendance, AttendanceChange
from tests.conftest import build_cast, need_postgres

from .test_attendance import held

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_recording_at_once_leave_one_row_and_every_change_logged():
    need_postgres()
    cast = build_cast()
    show = held(cast.branch)
    staff = [cast.branch_staff, cast.county_director, cast.centre_director] * 3
    barrier = threading.Barrier(len(staff))
    errors: list = []

    def one(i: int, user) -> None:
        try:
            barrier.wait()
            services.attendance_record(activity=show, head_count=100 + i, method="counted", by=user)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i, u)) for i, u in enumerate(staff)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    connections.close_all()

    assert errors == []
    assert Attendance.objects.filter(activity=show).count() == 1
    log = list(AttendanceChange.objects.order_by("pk"))
    assert len(log) == len(staff)
    assert log[0].old_head_count is None
    # Each change starts from the one before it: none was written over unseen.
    assert [c.old_head_count for c in log[1:]] == [c.new_head_count for c in log[:-1]]
    assert Attendance.objects.get().head_count == log[-1].new_head_count
    assert [c.changed_at for c in log] == sorted(c.changed_at for c in log)
