"""Turning an address line into coordinates through a geopy geocoder the installation picks."""

from __future__ import annotations

import logging
from typing import Protocol

from app.errors import DomainError
from app.messages import say

log = logging.getLogger(__name__)


class GeocodingFailed(DomainError):
    pass


class Geocoder(Protocol):
    def locate(self, line: str) -> tuple[float, float]:
        """Return (lat, lon) of an address line or raise GeocodingFailed."""
        ...


class NoGeocoder:
    """The default: no external service is called unless the installation configures one."""

    def locate(self, line: str) -> tuple[float, float]:
        # The setting is for whoever runs the installation, so it goes to the log, not a page.
        log.info("address not geocoded: no geocoder (set ROUNDTRIP_GEOCODER=nominatim)")
        raise GeocodingFailed(
            say(
                "No geocoder is configured, so the address cannot be found on the map: "
                "give its latitude and longitude."
            )
        )


class GeopyGeocoder:
    """Any geopy geocoder (Nominatim, Yandex, ...) behind our small protocol."""

    def __init__(self, geocoder: object) -> None:
        self._geocoder = geocoder

    def locate(self, line: str) -> tuple[float, float]:
        from geopy.exc import GeopyError

        try:
            location = self._geocoder.geocode(line, timeout=5)  # type: ignore[attr-defined]
        except GeopyError as exc:
            log.warning("geocoding service failed for %r: %s", line, exc)
            raise GeocodingFailed(
                say(
                    "The map service did not answer. Try again in a minute, "
                    "or give the address's latitude and longitude."
                )
            ) from exc
        if location is None:
            raise GeocodingFailed(
                say(
                    "The address '%(address)s' was not found on the map; "
                    "check it or give its latitude and longitude.",
                    address=line,
                )
            )
        return (float(location.latitude), float(location.longitude))


def geocoder_from_config(name: str, user_agent: str) -> Geocoder:
    if name in ("", "none"):
        return NoGeocoder()
    if name == "nominatim":
        from geopy.geocoders import Nominatim

        return GeopyGeocoder(Nominatim(user_agent=user_agent))
    raise ValueError(f"Unknown ROUNDTRIP_GEOCODER {name!r}; use 'none' or 'nominatim'.")
