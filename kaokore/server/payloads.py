"""The bodies of bad answers: a decompression bomb, an HTML error page, an oversized document.

Built here, without Pillow, so that a bomb costs the server ~50 kB and a fraction of a
second instead of the gigabytes a decoder would need.
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Iterator

__all__ = ["decompression_bomb_png", "html_page", "oversized_json"]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def decompression_bomb_png(side: int = 20_000) -> bytes:
    """A valid all-black 1-bit PNG of ``side`` x ``side`` pixels.

    At the default 20,000 px it is 400 Mpx: above Pillow's bomb limit and kaokore's
    ``DEFAULT_MAX_IMAGE_PIXELS``, yet about 50 kB, so only a client that checks the
    declared size before decoding is safe.
    """
    row = b"\x00" + b"\x00" * ((side + 7) // 8)  # filter byte "none" + packed bits
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row * 1000) for _ in range(side // 1000)]
    parts.append(compressor.compress(row * (side % 1000)))
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit, grayscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def html_page(status: int, title: str = "Service Temporarily Unavailable") -> bytes:
    """The kind of page a load balancer or CMS answers during maintenance."""
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>'
        f"{status} {title}</title></head>\n<body><h1>{title}</h1>"
        "<p>The server is temporarily unable to service your request due to maintenance "
        "downtime or capacity problems. Please try again later.</p></body></html>\n"
    ).encode()


def oversized_json(size: int, chunk: int = 1 << 16) -> Iterator[bytes]:
    """A syntactically valid JSON document of exactly ``size`` bytes (at least 16), streamed."""
    head, tail = b'{"padding": "', b'"}'
    if size < len(head) + len(tail):
        raise ValueError(f"size must be at least {len(head) + len(tail)}, got {size}")
    yield head
    left = size - len(head) - len(tail)
    block = b"x" * chunk
    while left > 0:
        part = block[: min(chunk, left)]
        left -= len(part)
        yield part
    yield tail
