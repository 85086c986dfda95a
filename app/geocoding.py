"""Turning an address line into coordinates through a geopy geocoder the installation picks."""

from __future__ import annotations

from typing import Protocol

from app.errors import DomainError


class GeocodingFailed(DomainError):
    pass


class Geocoder(Protocol):
    def locate(self, line: str) -> tuple[float, float]:
        """Return (lat, lon) of an address line or raise GeocodingFailed."""
        ...


class NoGeocoder:
    """The default: no external service is called unless the installation configures one."""

    def locate(self, line: str) -> tuple[float, float]:
        raise GeocodingFailed(
            "No geocoder is configured, so give the address's lat and lon "
            "(or set ROUNDTRIP_GEOCODER=nominatim)."
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
            raise GeocodingFailed(f"The geocoding service did not answer ({exc}).") from exc
        if location is None:
            raise GeocodingFailed(f"The address {line!r} was not found; check it or give lat/lon.")
        return (float(location.latitude), float(location.longitude))


def geocoder_from_config(name: str, user_agent: str) -> Geocoder:
    if name in ("", "none"):
        return NoGeocoder()
    if name == "nominatim":
        from geopy.geocoders import Nominatim

        return GeopyGeocoder(Nominatim(user_agent=user_agent))
    raise ValueError(f"Unknown ROUNDTRIP_GEOCODER {name!r}; use 'none' or 'nominatim'.")
