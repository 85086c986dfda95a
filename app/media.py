"""Photos people send (proof of delivery, a vehicle's defect, later a broken kettle): checked
for what they are and how big, stored as files outside the database, named by content.

A photo is recognised by its first bytes, never by its name or the type the client claims,
so nothing but a JPEG, PNG or WebP image is ever stored or served. Its name is its SHA-256:
the same photo sent twice (a retried upload) is one file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from app.errors import ValidationFailed
from app.messages import say

MAX_PHOTO_BYTES = 8 * 1024 * 1024  # a phone's photo, not a RAW file
KINDS = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}


def photo_kind(data: bytes) -> str | None:
    """``jpg``, ``png`` or ``webp`` from the file's first bytes; None for anything else."""
    for magic, kind in KINDS.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def check_photo(data: bytes, *, field: str = "photo") -> str:
    """The photo's kind (jpg, png, webp); refused with the field named when it is empty,
    too big or not a photo. Nothing is written: a form checks every part before keeping any."""
    if not data:
        raise ValidationFailed({field: [say("The photo is empty; take it again.")]})
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationFailed(
            {
                field: [
                    say(
                        "The photo is %(size)s MB; send one of at most %(limit)s MB.",
                        size=f"{len(data) / 2**20:.1f}",
                        limit=MAX_PHOTO_BYTES // 2**20,
                    )
                ]
            }
        )
    kind = photo_kind(data)
    if kind is None:
        raise ValidationFailed({field: [say("Send a photo (JPEG, PNG or WebP).")]})
    return kind


def store_photo(data: bytes, *, root: Path, field: str = "photo") -> str:
    """Store a photo under ``root``; returns its name there (``ab/abcdef….jpg``).

    Refused as :func:`check_photo` refuses; named by content, so a retried upload is one
    file."""
    kind = check_photo(data, field=field)
    digest = hashlib.sha256(data).hexdigest()
    name = f"{digest[:2]}/{digest}.{kind}"
    target = root / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then renamed: a reader never sees half a photo.
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    return name


def photo_path(name: str, *, root: Path) -> Path | None:
    """The file of a stored photo's name, if the name is one ``store_photo`` makes."""
    parts = name.split("/")
    if len(parts) != 2 or not parts[1].startswith(parts[0]) or ".." in name:
        return None
    stem, _, kind = parts[1].partition(".")
    if len(stem) != 64 or kind not in {"jpg", "png", "webp"}:
        return None
    if any(c not in "0123456789abcdef" for c in stem):
        return None
    found = root / name
    return found if found.is_file() else None
