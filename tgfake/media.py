"""Uploaded media: image sniffing, MIME guesses and the PhotoSize/Document objects.

Why: Telegram decodes every photo it receives and refuses bytes that are not an image
(``IMAGE_PROCESS_FAILED``) or have absurd dimensions, and answers with the sizes it produced.
A bot that renders charts (matplotlib) must see a broken PNG fail here, and a test must be able
to read the exact bytes back (``FakeTelegram.file_bytes``) to check them.
"""

from __future__ import annotations

import mimetypes
import struct
from typing import Any

from tgfake.errors import invalid
from tgfake.world import StoredFile, World

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_GETFILE_BYTES = 20 * 1024 * 1024
THUMB_SIDE = 90


def image_info(data: bytes) -> tuple[str, int, int] | None:
    """(mime type, width, height) for PNG/JPEG/GIF/WebP bytes, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data.startswith(b"GIF8") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "image/gif", width, height
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp", 512, 512
    if data.startswith(b"\xff\xd8"):
        size = _jpeg_size(data)
        return ("image/jpeg", *size) if size else None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def guess_mime(filename: str | None, declared: str | None = None) -> str:
    """MIME type from the declared one, else from the file name."""
    if declared and declared != "application/octet-stream":
        return declared
    guessed = mimetypes.guess_type(filename or "")[0]
    return guessed or declared or "application/octet-stream"


def check_upload_size(data: bytes) -> None:
    """Telegram's cloud limits for bot uploads."""
    if not data:
        raise invalid("file must be non-empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise invalid("file is too big")


def store_photo(world: World, data: bytes) -> StoredFile:
    """Validates image bytes like Telegram and stores them."""
    check_upload_size(data)
    info = image_info(data)
    if info is None:
        raise invalid("IMAGE_PROCESS_FAILED")
    mime, width, height = info
    if len(data) > MAX_PHOTO_BYTES:
        raise invalid("PHOTO_SAVE_FILE_INVALID")
    if width <= 0 or height <= 0 or width + height > 10000 or \
            max(width, height) > 20 * min(width, height):
        raise invalid("PHOTO_INVALID_DIMENSIONS")
    extension = mimetypes.guess_extension(mime) or ".jpg"
    return world.store_file(data, "photos", mime_type=mime, width=width, height=height,
                            extension=extension)


def photo_sizes(world: World, stored: StoredFile) -> list[dict[str, Any]]:
    """PhotoSize list, smallest first, like Telegram (a thumbnail plus the original)."""
    width, height = stored.width or 800, stored.height or 600
    sizes = []
    if max(width, height) > THUMB_SIDE:
        scale = THUMB_SIDE / max(width, height)
        thumb = world.store_file(stored.data, "photos", mime_type=stored.mime_type,
                                 width=max(1, round(width * scale)),
                                 height=max(1, round(height * scale)))
        thumb.file_unique_id += "Th"  # each size is its own file in Telegram
        sizes.append(_photo_size(thumb))
    sizes.append(_photo_size(stored, width, height))
    return sizes


def _photo_size(stored: StoredFile, width: int = 0, height: int = 0) -> dict[str, Any]:
    return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
            "file_size": stored.size, "width": width or stored.width,
            "height": height or stored.height}


def file_object(stored: StoredFile, **extra: Any) -> dict[str, Any]:
    """Document/Audio/Video/... object: the common file fields plus extras."""
    obj: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                           "file_size": stored.size}
    if stored.file_name:
        obj["file_name"] = stored.file_name
    if stored.mime_type:
        obj["mime_type"] = stored.mime_type
    obj.update(extra)
    return obj
