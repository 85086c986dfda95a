"""Where this installation keeps the photos people send (app.media stores and checks them)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage

from app.media import MAX_PHOTO_BYTES


def uploads() -> Path:
    """ROUNDTRIP_UPLOAD_DIR, else the instance's uploads folder."""
    configured = current_app.config.get("UPLOAD_DIR")
    if configured:
        return Path(configured)
    return Path(current_app.config["INSTANCE_PATH"]) / "uploads"


def read_photo(upload: FileStorage) -> bytes:
    """A sent photo's bytes, read to one byte past the limit (a bigger one is refused by its
    size without being read whole), and the upload let go: a big one is a temporary file."""
    try:
        return upload.stream.read(MAX_PHOTO_BYTES + 1)
    finally:
        upload.close()
