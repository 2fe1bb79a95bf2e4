"""Links that open a hall's place in the phone's map app (or the map's web page): no map tiles,
no key, nothing loaded from the map providers by our pages.

A hall's coordinates are GCJ-02 (network.models.Hall), so each link names that datum: 高德's
``coordinate=gaode`` (its own GCJ-02; ``wgs84`` would be converted) and 百度's
``coord_type=gcj02`` (百度 converts it to its BD-09). Both put longitude and latitude in a
different order: 高德 ``position=lng,lat``, 百度 ``location=lat,lng``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from .models import Hall

# The caller's name that both providers ask for in their URI APIs.
SOURCE = "culturehall.portal"


@dataclass(frozen=True)
class MapLink:
    provider: str
    label: str
    url: str


def map_links(hall: Hall) -> list[MapLink]:
    """高德 and 百度 links to ``hall``'s place; none when it has no coordinates."""
    if hall.latitude is None or hall.longitude is None:
        return []
    lat, lng = f"{hall.latitude:f}", f"{hall.longitude:f}"
    amap = "https://uri.amap.com/marker?" + urlencode(
        {
            "position": f"{lng},{lat}",
            "name": hall.name,
            "src": SOURCE,
            "coordinate": "gaode",
            "callnative": 1,
        }
    )
    baidu = "https://api.map.baidu.com/marker?" + urlencode(
        {
            "location": f"{lat},{lng}",
            "title": hall.name,
            "content": hall.address or hall.name,
            "coord_type": "gcj02",
            "output": "html",
            "src": SOURCE,
        }
    )
    return [
        MapLink("amap", str(_("高德地图")), amap),
        MapLink("baidu", str(_("百度地图")), baidu),
    ]
