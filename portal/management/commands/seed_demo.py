from __future__ import annotations

from django.core.management.base import BaseCommand

from activities import demo as activities_demo
from activities.digital import demo as digital_demo
from activities.orders import demo as orders_demo
from activities.resources import demo as resources_demo
from activities.venues import demo as venues_demo
from evaluation import demo as evaluation_demo
from network import demo as network_demo
from network.models import Hall


class Command(BaseCommand):
    help = "建立昆明市演示网络、演示账号和演示数据(可重复运行,结果相同)。"

    def handle(self, *args, **options):
        centre = network_demo.seed_network()
        logins = network_demo.seed_staff()
        activities_demo.seed_activities(centre)
        attendance = activities_demo.seed_attendance(centre)
        course = activities_demo.seed_course(centre)
        orders = orders_demo.seed_orders(centre)
        resources = resources_demo.seed_resources(centre)
        digital = digital_demo.seed_digital(centre)
        venues = venues_demo.seed_venues(centre)
        reports = evaluation_demo.seed_figures(centre)
        count = Hall.objects.filter(tree_id=centre.tree_id).count()
        activities = activities_demo.activity_count(centre)
        self.stdout.write(self.style.SUCCESS(f"演示网络:{centre.name},共 {count} 个馆。"))
        self.stdout.write(
            f"演示活动:{activities} 场;点单 {orders} 个;资源 {resources} 项;数字资源 {digital} 项。"
        )
        if attendance:
            self.stdout.write(f"已登记参与人次的往期展览、演出:{attendance} 场(现场清点或估算)。")
        if course is not None:
            self.stdout.write(activities_demo.course_summary(course))
        self.stdout.write(f"上一年度统计年报:{reports} 个馆已报送,并有考核评分。")
        booking = activities_demo.demo_booking()
        if booking:
            self.stdout.write(f"演示预约:预约码 {booking.code},手机号码 {booking.phone}")
        reservation = venues_demo.demo_reservation()
        if reservation:
            self.stdout.write(
                f"演示场馆预约({venues} 个场馆):预约码 {reservation.code},"
                f"手机号码 {reservation.phone}"
            )
        self.stdout.write("演示账号 (账号 / 密码 / 所在):")
        for username, password, where in logins:
            self.stdout.write(f"  {username:<22} {password:<12} {where}")
