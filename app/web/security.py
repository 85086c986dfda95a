"""Security headers on every response, and a development server that names no versions.

Every page keeps its JavaScript in ``app/web/static/`` and its data in one
``<script type="application/json">`` block, so the Content-Security-Policy needs no
``'unsafe-inline'`` for scripts or styles.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Response

SERVER_NAME = "Roundtrip"


def content_security_policy(tile_url: str = "") -> str:
    """The policy for every response; map tiles may come from the configured tile host."""
    images = ["'self'", "data:"]
    tile_origin = _origin(tile_url)
    if tile_origin:
        images.append(tile_origin)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": images,
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def _origin(url: str) -> str:
    """``https://tile.openstreetmap.org`` from a tile URL template; '' when none is set.

    Leaflet's ``{s}`` sub-domain placeholder becomes a ``*.`` wildcard."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.netloc.rsplit("@", 1)[-1].replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def register_security(app: Flask) -> None:
    """Add the security headers to every response: pages, API, static files and errors."""
    headers = {
        "Content-Security-Policy": content_security_policy(app.config.get("MAP_TILE_URL", "")),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's development request handler with a ``Server`` header naming no versions.

    The handler writes ``Server`` itself (``Werkzeug/x.y Python/x.y``) before the
    application's headers, so an ``after_request`` hook cannot replace it.
    """

    @property
    def server_version(self) -> str:  # type: ignore[override]
        return SERVER_NAME

    def version_string(self) -> str:
        return SERVER_NAME
