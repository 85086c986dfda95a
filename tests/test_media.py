"""Photos people send are recognised by their bytes, bounded in size, and stored once."""

from __future__ import annotations

import pytest

from app.errors import ValidationFailed
from app.media import MAX_PHOTO_BYTES, photo_kind, photo_path, store_photo

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 32


def test_a_photo_is_known_by_its_first_bytes_not_its_name():
    assert photo_kind(JPEG) == "jpg"
    assert photo_kind(WEBP) == "webp"
    assert photo_kind(b"<svg onload=alert(1)>") is None
    assert photo_kind(b"GIF89a") is None


def test_the_same_photo_sent_twice_is_one_file(tmp_path):
    first = store_photo(JPEG, root=tmp_path)
    again = store_photo(JPEG, root=tmp_path)

    assert first == again
    assert photo_path(first, root=tmp_path) == tmp_path / first
    assert len(list(tmp_path.rglob("*.jpg"))) == 1


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "The photo is empty"),
        (b"just text", "Send a photo (JPEG, PNG or WebP)."),
        (JPEG + b"\x00" * MAX_PHOTO_BYTES, "send one of at most 8 MB"),
    ],
)
def test_an_empty_oversized_or_non_image_upload_is_refused_naming_the_field(tmp_path, data, says):
    with pytest.raises(ValidationFailed) as refused:
        store_photo(data, root=tmp_path, field="photos.0")

    (problem,) = refused.value.errors["photos.0"]
    assert says in problem
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["../secret_key", "ab/../../x.jpg", "ab/" + "cd" * 32 + ".jpg"])
def test_a_name_that_store_photo_did_not_make_finds_nothing(tmp_path, name):
    assert photo_path(name, root=tmp_path) is None


def test_a_sent_photo_is_read_to_one_byte_past_the_limit_and_let_go():
    """A 20 MB upload costs 8 MB and a byte of memory, enough to refuse it by its size."""
    import io

    from werkzeug.datastructures import FileStorage

    from app.web.uploads import read_photo

    stream = io.BytesIO(JPEG + b"\x00" * (20 * 2**20))
    data = read_photo(FileStorage(stream=stream, filename="big.jpg"))

    assert len(data) == MAX_PHOTO_BYTES + 1
    assert stream.closed
