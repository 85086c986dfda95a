"""Where this installation keeps the photos people send (app.media stores and checks them)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app


def uploads() -> Path:
    """ROUNDTRIP_UPLOAD_DIR, else the instance's uploads folder."""
    configured = current_app.config.get("UPLOAD_DIR")
    if configured:
        return Path(configured)
    return Path(current_app.config["INSTANCE_PATH"]) / "uploads"
