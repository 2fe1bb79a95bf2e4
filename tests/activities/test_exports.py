from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from activities import services
from activities.exports import write_signup_list

from .factories import published_activity

pytestmark = pytest.mark.django_db


def test_the_signup_list_has_chinese_headers_a_frozen_header_and_every_booking(cast):
    activity = published_activity(cast.branch, capacity=2, title="书法培训班")
    a = services.booking_create(activity_id=activity.pk, name="张三", phone="13800000001", seats=2)
    b = services.booking_create(activity_id=activity.pk, name="李四", phone="13800000002", seats=1)
    services.booking_check_in(code=a.code, by_user=cast.branch_staff)
    out = io.BytesIO()
    write_signup_list(activity, out)
    ws = load_workbook(io.BytesIO(out.getvalue()))["报名名单"]
    assert "书法培训班" in ws["A1"].value
    assert [c.value for c in ws[2]] == [
        "序号", "预约码", "姓名", "手机号码", "座位数", "状态", "预约时间", "签到时间",
    ]  # fmt: skip
    assert ws.freeze_panes == "A3"
    assert ws["A2"].font.b
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    assert [(r[1], r[2], r[4], r[5]) for r in rows] == [
        (a.code, "张三", 2, "已确认"),
        (b.code, "李四", 1, "候补中"),
    ]
    assert rows[0][7] is not None and rows[1][7] is None
