"""Time zones a therapist can choose, named in their language, and the server's own zone."""

from __future__ import annotations

import functools
import os
import zoneinfo
from pathlib import Path

import pytz
from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone_location

UTC = "UTC"
# The zones of places ("America/Mexico_City"); legacy aliases such as "US/Central", "Etc/GMT+6"
# or "Mexico/General" name the same clocks again and only make the list longer.
_PLACE_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)


@functools.cache
def offered_time_zones() -> frozenset[str]:
    """The IANA zones on offer: this machine's time zone database, one name per place, as
    Flask-Babel can use it."""
    names = zoneinfo.available_timezones() or set(pytz.common_timezones)
    # pytz's common zones leave out the old names of a place ("Asia/Chongqing" for Shanghai),
    # and Flask-Babel converts with pytz, whose own copy of the database may lag the system's.
    common = frozenset(pytz.common_timezones)
    places = {name for name in names if name.split("/", 1)[0] in _PLACE_AREAS and name in common}
    return frozenset(places | {UTC})


def is_offered(name: object) -> bool:
    return isinstance(name, str) and name in offered_time_zones()


def time_zone_label(name: str, language: str) -> str:
    """A zone as people say it: "Mexico (Mexico City)", "México (Ciudad de México)"."""
    if name == UTC:
        return UTC
    locale = Locale.parse(language)
    city = get_timezone_location(name, locale=locale, return_city=True)
    country = locale.territories.get(get_global("zone_territories").get(name, ""), "")
    return f"{country} ({city})" if country and country != city else city


@functools.cache
def time_zone_choices(language: str) -> tuple[tuple[str, str], ...]:
    """(zone, label) for every offered zone, UTC first, then by country and city."""
    others = sorted(
        (time_zone_label(name, language), name) for name in offered_time_zones() if name != UTC
    )
    return ((UTC, UTC), *((name, label) for label, name in others))


def _zone_of_this_machine() -> str | None:
    if os.environ.get("TZ"):
        return os.environ["TZ"].lstrip(":")
    try:
        return Path("/etc/timezone").read_text().strip()
    except OSError:
        pass
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        # e.g. /usr/share/zoneinfo/Europe/Madrid
        parts = localtime.resolve().parts
        if "zoneinfo" in parts:
            return "/".join(parts[parts.index("zoneinfo") + 1 :])
    return None


def server_time_zone() -> str:
    """This machine's zone when it is one on offer ("Etc/UTC" and the like become UTC)."""
    name = _zone_of_this_machine()
    return name if is_offered(name) else UTC
