"""The portal's settings with one change, for ``bench/booking_bench.py`` only: a URLconf that adds a
bare view beside the portal's routes, so that the benchmark can compare a page with the cheapest
Django response the same server can give. Chosen by ``DJANGO_SETTINGS_MODULE``; nothing else
imports it.
"""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
