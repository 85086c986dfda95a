"""The installation's geocoder, from the app config (ROUNDTRIP_GEOCODER)."""

from __future__ import annotations

from flask import current_app

from app.geocoding import Geocoder, geocoder_from_config


def configured_geocoder() -> Geocoder:
    return geocoder_from_config(
        current_app.config.get("GEOCODER", "none"),
        current_app.config.get("GEOCODER_USER_AGENT", "roundtrip"),
    )
