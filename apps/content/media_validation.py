"""What media files editors may attach: sniffed by their first bytes, capped in size."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class MediaType:
    kind: str
    content_type: str
    extensions: tuple[str, ...]


def _sniff(head: bytes) -> MediaType | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType("image", "image/png", (".png",))
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType("image", "image/jpeg", (".jpg", ".jpeg"))
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return MediaType("image", "image/gif", (".gif",))
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaType("image", "image/webp", (".webp",))
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return MediaType("audio", "audio/wav", (".wav",))
    if head.startswith(b"OggS"):
        return MediaType("audio", "audio/ogg", (".ogg", ".oga", ".opus"))
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return MediaType("audio", "audio/mpeg", (".mp3",))
    if head[4:8] == b"ftyp" and head[8:11] in (b"M4A", b"mp4", b"iso"):
        return MediaType("audio", "audio/mp4", (".m4a", ".mp4"))
    return None


def media_type_validate(uploaded_file) -> MediaType:
    """Return the file's media type, or raise ValidationError saying what is accepted.

    The type comes from the file's bytes, not its name or the browser's claim; the extension
    must agree, so a renamed file is caught too.
    """
    uploaded_file.seek(0)
    head = uploaded_file.read(16)
    uploaded_file.seek(0)
    media_type = _sniff(head)
    if media_type is None:
        raise ValidationError(
            "Unsupported file. Images: PNG, JPEG, GIF, WebP. Audio: MP3, OGG, WAV, M4A.",
            code="media_unsupported",
        )
    name = (uploaded_file.name or "").lower()
    if not name.endswith(media_type.extensions):
        raise ValidationError(
            "The file is %(type)s but named %(name)s; expected %(ext)s.",
            code="media_extension_mismatch",
            params={
                "type": media_type.content_type,
                "name": uploaded_file.name,
                "ext": " or ".join(media_type.extensions),
            },
        )
    limit = settings.CONTENT_MEDIA_MAX_BYTES[media_type.kind]
    if uploaded_file.size > limit:
        raise ValidationError(
            "%(kind)s files may be at most %(limit)d MB; this one is %(size).1f MB.",
            code="media_too_large",
            params={
                "kind": media_type.kind.capitalize(),
                "limit": limit // 1_000_000,
                "size": uploaded_file.size / 1_000_000,
            },
        )
    return media_type
