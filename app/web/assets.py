"""Front-end files served from Python packages, so pages never reach out to a CDN."""

from __future__ import annotations

from pathlib import Path

import xstatic.pkg.bootstrap
import xstatic.pkg.leaflet
from flask import Blueprint, Flask, send_from_directory
from swagger_ui_bundle import swagger_ui_path
from werkzeug.wrappers import Response

VENDOR_DIRS: dict[str, Path] = {
    "bootstrap": Path(xstatic.pkg.bootstrap.BASE_DIR),
    "leaflet": Path(xstatic.pkg.leaflet.BASE_DIR),
    "swagger-ui": Path(str(swagger_ui_path)),
}

bp = Blueprint("vendor", __name__, url_prefix="/vendor")


@bp.get("/<package>/<path:filename>")
def vendor_file(package: str, filename: str) -> Response:
    from flask import abort

    folder = VENDOR_DIRS.get(package)
    if folder is None:
        abort(404)
    return send_from_directory(folder, filename, max_age=86400)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
