"""Demo activities, bookings and notices for the Kunming network. Same rows every run; dates are
placed around today so the demo always has upcoming events."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from common.codes import fix_codes
from network.models import Hall, HallKind, Membership, Role

from . import courses, services
from .models import Activity, Attendance, Booking, Category, CourseSession, GroupKind, Notice

TITLES = {
    Category.PERFORMANCE: ["花灯戏专场演出", "民族歌舞晚会", "滇剧折子戏展演"],
    Category.EXHIBITION: ["乡村振兴摄影展", "非遗剪纸作品展"],
    Category.LECTURE: ["云南民族音乐讲座", "家庭阅读指导讲座"],
    Category.TRAINING: ["广场舞培训班", "书法公益培训", "葫芦丝入门培训"],
    Category.READING: ["亲子绘本共读", "农家书屋读书会"],
    Category.OTHER: ["社区文艺联欢"],
}


def day_at(day: int, hour: int) -> datetime:
    """``hour`` o'clock, ``day`` days from today (before it when negative), local time."""
    today = timezone.localdate()
    return timezone.make_aware(datetime.combine(today + timedelta(days=day), time(hour)))


def next_holiday(today) -> str:
    """The next holiday a notice about opening hours would be about, by today's date, so the
    demo's notice never speaks of 国庆 in December."""
    if today.month == 10 and today.day <= 7:
        return "国庆"
    return {
        1: "春节",
        2: "清明",
        3: "清明",
        4: "劳动节",
        5: "端午",
        6: "暑期",
        7: "暑期",
        8: "中秋",
        9: "国庆",
        10: "元旦",
        11: "元旦",
        12: "元旦",
    }[today.month]


def _seed_past_year(halls: list[Hall], phones) -> int:
    """One held activity a month for the eleven months before this one at each of ``halls``,
    with its check-ins, so the charts of activities and participants cover the whole year."""
    today = timezone.localdate()
    n = 0
    for i, hall in enumerate(halls):
        for back in range(1, 12):
            year, month = today.year, today.month - back
            if month < 1:
                year, month = year - 1, month + 12
            start = timezone.make_aware(datetime(year, month, 10 + i, 14))
            category = list(TITLES)[(i + back) % len(TITLES)]
            activity = services.activity_create(
                hall=hall,
                category=category,
                title=TITLES[category][back % len(TITLES[category])],
                description=f"{hall.name}主办,欢迎附近居民参加。",
                venue="多功能厅",
                start=start,
                end=start + timedelta(hours=2),
                capacity=40,
                max_seats_per_booking=4,
            )
            services.activity_publish(activity=activity)
            n += 1
            for k in range(3 + (i + back) % 5):
                booking = services.booking_create(
                    activity_id=activity.pk,
                    name=f"居民{k + 1}",
                    phone=next(phones),
                    seats=1 + k % 3,
                    now=start - timedelta(days=5),
                )
                services.booking_check_in(code=booking.code, now=start)
    return n


@transaction.atomic
def seed_activities(centre: Hall) -> int:
    if Activity.objects.filter(hall__tree_id=centre.tree_id).exists():
        return Activity.objects.filter(hall__tree_id=centre.tree_id).count()
    halls = list(
        Hall.objects.filter(tree_id=centre.tree_id, kind__in=[HallKind.MAIN, HallKind.BRANCH])
        .exclude(status="planned")
        .order_by("lft")[:40]
    )
    phones = iter(f"139{n:08d}" for n in range(10_000, 99_999))
    n = 0
    for i, hall in enumerate(halls):
        for j, (category, titles) in enumerate(TITLES.items()):
            if (i + j) % 3:
                continue
            day = (i * 3 + j * 2) % 40 - 10  # some past (for figures), most upcoming
            start = day_at(day, 9 + (i + j) % 10)
            activity = services.activity_create(
                hall=hall,
                category=category,
                title=titles[(i + j) % len(titles)],
                description=f"{hall.name}主办,欢迎附近居民参加。",
                venue="多功能厅" if hall.kind == HallKind.BRANCH else "小剧场",
                start=start,
                end=start + timedelta(hours=2),
                capacity=None if category == Category.EXHIBITION else 20 + (i * 7 + j) % 60,
                max_seats_per_booking=4,
                featured=(i + j) % 7 == 0,
            )
            services.activity_publish(activity=activity)
            n += 1
            if activity.capacity:
                now = start - timedelta(days=5)
                for k in range(min(activity.capacity // 2, 12)):
                    booking = services.booking_create(
                        activity_id=activity.pk,
                        name=f"居民{k + 1}",
                        phone=next(phones),
                        seats=1 + k % 3,
                        now=now,
                    )
                    if day < 0 and k % 4:
                        services.booking_check_in(code=booking.code, now=start)
    # A mobile stage truck tour stop at the first village of 关上街道.
    county = Hall.objects.get(tree_id=centre.tree_id, name="官渡区文化馆")
    point = Hall.objects.filter(branch_hall__name="关上街道综合文化站", kind=HallKind.POINT).first()
    start = day_at(6, 19)
    mobile = services.activity_create(
        hall=county,
        venue_hall=point,
        category=Category.MOBILE,
        title="流动舞台车进社区",
        description="官渡区文化馆流动舞台车文艺演出。",
        venue="社区广场",
        start=start,
        end=start + timedelta(hours=2),
        capacity=None,
        featured=True,
    )
    services.activity_publish(activity=mobile)
    fix_codes(Booking, Booking.objects.filter(activity__hall__tree_id=centre.tree_id), "booking")
    guanshang = Hall.objects.get(tree_id=centre.tree_id, name="关上街道综合文化站")
    yearly = list(dict.fromkeys([*halls[:4], county, guanshang]))
    n += _seed_past_year(yearly, phones)
    for hall, title in [
        (county, f"{next_holiday(timezone.localdate())}期间开放时间调整"),
        (centre, "昆明市文化馆新开设数字文化体验区"),
    ]:
        Notice.objects.create(
            hall=hall,
            title=title,
            body=f"{hall.name}:{title}。详情请致电咨询。",
            published_at=day_at(-2, 9),
        )
    return n + 1


@transaction.atomic
def seed_attendance(centre: Hall) -> int:
    """Attendance staff recorded for past exhibitions (estimated: nobody books a seat at an
    exhibition) and for every other past performance (counted at the door, more than the
    check-ins), so the participants figures show both sources. Same numbers every run; an
    activity that already has attendance is left as it is. Returns how many activities of the
    city have attendance recorded."""
    past = (
        Activity.objects.filter(
            hall__tree_id=centre.tree_id,
            status=Activity.Status.PUBLISHED,
            category__in=[Category.EXHIBITION, Category.PERFORMANCE],
            start__lt=timezone.now(),
        )
        .select_related("hall")
        .order_by("start", "pk")
    )
    recorded = set(
        Attendance.objects.filter(activity__in=past).values_list("activity_id", flat=True)
    )
    for i, activity in enumerate(past):
        if activity.pk in recorded:
            continue
        if activity.category == Category.EXHIBITION:
            head_count, method, note = (
                150 + (i * 37) % 400,
                Attendance.Method.ESTIMATED,
                "按入口计数估算",
            )
        elif i % 2 == 0:
            initial = services.attendance_initial(activity=activity)
            head_count = initial["head_count"] + 30 + (i * 11) % 50
            method, note = Attendance.Method.COUNTED, "含未预约的现场观众"
        else:
            continue
        recorder = _recorder(activity.hall)
        if recorder is None:
            continue
        services.attendance_record(
            activity=activity,
            head_count=head_count,
            method=method,
            note=note,
            by=recorder,
            now=min(activity.end, timezone.now()),
        )
    return Attendance.objects.filter(activity__hall__tree_id=centre.tree_id).count()


COURSE_TITLE = "少儿民族舞培训班"
COURSE_HALL = "关上街道综合文化站"


@transaction.atomic
def seed_course(centre: Hall) -> Activity | None:
    """A weekly course of ten Saturday sessions at 关上街道, six of them past with the roll
    taken: enrolments of residents and one school class (团体报名), and a waiting list. Same
    rows every run; a city that has it already is left as it is."""
    hall = Hall.objects.filter(tree_id=centre.tree_id, name=COURSE_HALL).first()
    if hall is None:
        return None
    found = Activity.objects.filter(hall=hall, title=COURSE_TITLE).first()
    if found is not None:
        return found
    today = timezone.localdate()
    saturday = today - timedelta(days=(today.weekday() - 5) % 7)  # the last Saturday, or today
    first_day = saturday - timedelta(weeks=5 if saturday < today else 6)
    first = timezone.make_aware(datetime.combine(first_day, time(9, 30)))
    course = services.activity_create(
        hall=hall,
        category=Category.TRAINING,
        title=COURSE_TITLE,
        description="面向 6–12 岁少儿的民族舞基础训练,每周六上午一次课,共 10 次;"
        "一次报名即参加全部课次,出勤达到八成即可结业。学校班级可团体报名。",
        venue="二楼舞蹈排练厅",
        start=first,
        end=first + timedelta(hours=1, minutes=30),
        capacity=20,
        max_seats_per_booking=2,
        group_limit=15,
        completion_share=80,
    )
    services.activity_publish(activity=course)
    courses.course_sessions_repeat(
        activity=course,
        first_day=first_day,
        weekday=5,
        starts=time(9, 30),
        ends=time(11),
        weeks=10,
        skip_holidays=False,
        place="二楼舞蹈排练厅",
    )
    before = first - timedelta(days=7)
    group = services.booking_create(
        activity_id=course.pk,
        name="杨老师",
        phone="13700000001",
        seats=12,
        group_kind=GroupKind.SCHOOL_CLASS,
        group_name="关上中心小学三年级二班",
        now=before,
    )
    people = [
        services.booking_create(
            activity_id=course.pk,
            name=f"学员家长{k + 1}",
            phone=f"137000001{k:02d}",
            seats=1,
            now=before + timedelta(hours=k + 1),
        )
        for k in range(10)  # eight fit; the last two wait
    ]
    fix_codes(Booking, course.bookings.all(), "course")
    recorder = _recorder(hall)
    now = timezone.now()
    confirmed = [b for b in [group, *people] if b.status == Booking.Status.CONFIRMED]
    for n, session in enumerate(CourseSession.objects.filter(activity=course).order_by("start")):
        if session.end > now or recorder is None:
            break
        present = {group.pk} | {b.pk for k, b in enumerate(confirmed[1:]) if (k + n) % 5}
        courses.session_roll_record(session=session, present=present, by=recorder, now=session.end)
    return course


def _recorder(hall: Hall):
    """The demo staff member nearest above the hall (its own staff first), officials aside."""
    membership = (
        Membership.objects.filter(
            hall__tree_id=hall.tree_id, hall__lft__lte=hall.lft, hall__rght__gte=hall.rght
        )
        .exclude(role=Role.OFFICIAL)
        .select_related("user")
        .order_by("-hall__level", "pk")
        .first()
    )
    return membership.user if membership else None


def activity_count(centre: Hall) -> int:
    return Activity.objects.filter(hall__tree_id=centre.tree_id).count()


def demo_booking() -> Booking | None:
    return Booking.objects.filter(status=Booking.Status.CONFIRMED).order_by("pk").first()


def course_summary(course: Activity) -> str:
    """One line of the demo summary: the course, its sessions, its enrolments and its roll."""
    sessions = CourseSession.objects.filter(activity=course)
    called = sessions.filter(roll__isnull=False).distinct().count()
    bookings = course.bookings.exclude(status=Booking.Status.CANCELLED)
    groups = bookings.exclude(group_kind="").count()
    waiting = bookings.filter(status=Booking.Status.WAITLISTED).count()
    return (
        f"演示培训班:{course.title}(活动编号 {course.pk}),共 {sessions.count()} 次课,"
        f"已点名 {called} 次;报名 {bookings.count()} 个(团体 {groups} 个,候补 {waiting} 个)。"
    )
