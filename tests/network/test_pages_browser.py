"""A resident on a 375 px phone finds a village's culture hall and walks back up the tree."""

from __future__ import annotations

import pytest

from network import services
from tests.browser import no_horizontal_scroll

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser


def heading(page) -> str:
    return page.locator("h1").inner_text()


def test_resident_finds_a_village_and_walks_up_the_breadcrumbs(page, live_server, cast):
    services.hall_update(
        hall=cast.point,
        opening_hours="每天 8:30-11:30, 14:30-21:00",
        phone="0871-63101234",
        address="昆明市官渡区关上街道关上一社区中路 1 号综合文化服务中心二楼",
        services="文化活动室、农家书屋、广场文艺、数字文化服务",
    )

    page.goto(live_server.url + "/")
    assert no_horizontal_scroll(page)
    page.get_by_role("searchbox").fill("关上一")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_url("**/halls/search/?q=*")
    assert no_horizontal_scroll(page)

    page.get_by_role("link", name="关上一社区服务中心").click()
    page.wait_for_url(f"**/halls/{cast.point.pk}/")
    assert heading(page) == "官渡区文化馆关上街道分馆关上一社区基层服务点"
    # The free-text note shows in the opening-hours section (this point has no weekly ranges).
    assert "每天 8:30-11:30, 14:30-21:00" in page.locator(".opening").inner_text()
    assert page.get_by_role("link", name="0871-63101234").get_attribute("href") == (
        "tel:087163101234"
    )
    assert no_horizontal_scroll(page)

    crumbs = page.get_by_role("navigation", name="所在位置")
    for locality, plaque in [
        ("关上街道", "官渡区文化馆关上街道分馆"),
        ("官渡区", "官渡区文化馆"),
        ("昆明市", "昆明市文化馆"),
    ]:
        crumbs.get_by_role("link", name=locality, exact=True).click()
        page.wait_for_function("h => document.querySelector('h1').innerText === h", arg=plaque)
        assert no_horizontal_scroll(page)

    # From the city the resident can go back down: the counties are listed with their counts.
    assert page.locator(".children").get_by_role("link", name="官渡区").is_visible()


def test_language_switch_changes_the_page_language(page, live_server, cast):
    page.goto(live_server.url + "/halls/")
    page.get_by_role("button", name="English").click()
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert page.url == live_server.url + "/halls/"
    assert page.get_by_role("button", name="English").get_attribute("aria-pressed") == "true"


def test_a_chengjiang_village_shows_its_支馆_plaque_on_a_phone(page, live_server, cast):
    from network import naming
    from network.models import NamingScheme
    from tests.browser import step

    scheme, _created = NamingScheme.objects.get_or_create(
        code="chengjiang", defaults=naming.SHIPPED["chengjiang"]
    )
    centre = services.hall_create(
        parent=None, name="玉溪市文化馆", locality="玉溪市", naming_scheme=scheme
    )
    county = services.hall_create(parent=centre, name="澄江县文化馆", locality="澄江县")
    town = services.hall_create(parent=county, name="右所镇综合文化站", locality="右所镇")
    village = services.hall_create(parent=town, name="旧城村综合文化室", locality="旧城村")

    page.goto(f"{live_server.url}/halls/{town.pk}/")
    assert page.locator(".children h2").inner_text() == "下设支馆(1)"
    step(page, "chengjiang-town")
    page.locator(".children").get_by_role("link", name="旧城村").click()
    page.wait_for_url(f"**/halls/{village.pk}/")
    assert heading(page) == "右所镇旧城村综合文化支馆"
    assert page.locator(".badges .badge").first.inner_text() == "支馆"
    step(page, "chengjiang-village")
