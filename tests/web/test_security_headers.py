"""Security headers on every kind of response, cookies that follow the configuration, and a
development server whose ``Server`` header names no versions."""

from __future__ import annotations

import http.client
import re
import threading

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from app.config import Config
from app.web.security import QuietRequestHandler, content_security_policy

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: [sources]}."""
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_security_headers(response) -> None:  # type: ignore[no-untyped-def]
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.request.path, name)
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    for name, sources in policy.items():
        assert "'unsafe-inline'" not in sources, name
        assert "'unsafe-eval'" not in sources, name


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """The app with one view that breaks, answered by the 500 page as in production."""

    def broken() -> str:
        raise RuntimeError("boom")

    app.add_url_rule("/broken-for-test", "broken_for_test", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/login", 200),
        ("/dispatcher/", 302),  # a page that needs signing in
        ("/no-such-page", 404),
        ("/static/roundtrip.css", 200),
        ("/static/dispatcher-plan.js", 200),
        ("/vendor/leaflet/leaflet.js", 200),
        ("/vendor/swagger-ui/swagger-ui-bundle.js", 200),
        ("/api/v1/health", 200),  # 503 (degraded) when the database is unreachable
        ("/api/v1/orders", 401),
        ("/api/v1/no-such-thing", 404),
        ("/api/v1/openapi.json", 200),
        ("/api/v1/docs", 200),
    ],
)
def test_every_kind_of_response_carries_the_security_headers(
    client: FlaskClient, path: str, status: int
) -> None:
    with client.get(path) as response:
        assert response.status_code == status or (path, response.status_code) == (
            "/api/v1/health",
            503,
        )
        assert_security_headers(response)


def test_refusals_and_server_errors_carry_them_too(failing_app: Flask) -> None:
    client = failing_app.test_client()
    no_csrf = client.post("/login", data={})
    not_allowed = client.delete("/api/v1/health")
    broken = client.get("/broken-for-test")

    assert [no_csrf.status_code, not_allowed.status_code, broken.status_code] == [400, 405, 500]
    for response in (no_csrf, not_allowed, broken):
        assert_security_headers(response)


def test_signed_in_pages_carry_them(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as("dispatcher")

    response = client.get("/dispatcher/")

    assert response.status_code == 200
    assert_security_headers(response)


def test_pages_have_no_inline_script_or_style(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    """The CSP allows no inline code: scripts are files, page data is a JSON block."""
    login_as("dispatcher")
    for path in ("/", "/login", "/dispatcher/", "/api/v1/docs"):
        page = client.get(path).get_data(as_text=True)
        for chunk in page.split("<script")[1:]:
            opening = chunk.split(">", 1)[0]
            assert "src=" in opening or 'type="application/json"' in opening, (path, opening)
        assert "<style" not in page, path
        assert " style=" not in page, path
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", page), path  # no inline handlers


def test_map_tiles_may_come_from_the_configured_host_only() -> None:
    without = directives(content_security_policy(""))
    osm = directives(content_security_policy("https://tile.openstreetmap.org/{z}/{x}/{y}.png"))
    subdomains = directives(content_security_policy("https://{s}.tile.example.org/{z}/{x}/{y}.png"))

    assert without["img-src"] == ["'self'", "data:"]
    assert osm["img-src"] == ["'self'", "data:", "https://tile.openstreetmap.org"]
    assert subdomains["img-src"][-1] == "https://*.tile.example.org"
    assert osm["script-src"] == ["'self'"]


def test_the_app_uses_the_configured_tile_host(app: Flask) -> None:
    from app.web import create_app

    tiled = create_app({**app.config, "MAP_TILE_URL": "https://tiles.example.net/{z}/{x}/{y}.png"})

    response = tiled.test_client().get("/login")

    assert (
        "https://tiles.example.net"
        in directives(response.headers["Content-Security-Policy"])["img-src"]
    )


@pytest.mark.parametrize(("setting", "secure"), [(None, False), ("off", False), ("on", True)])
def test_secure_cookies_follow_the_environment(setting: str | None, secure: bool) -> None:
    environ = {"SECRET_KEY": "x"} | ({"ROUNDTRIP_SECURE_COOKIES": setting} if setting else {})

    config = Config(environ)

    assert config.SESSION_COOKIE_SECURE is secure
    assert config.REMEMBER_COOKIE_SECURE is secure


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookie_secure_flag_follows_config(app: Flask, secure: bool) -> None:
    app.config["SESSION_COOKIE_SECURE"] = secure

    response = app.test_client().get("/login")  # the CSRF token starts a session

    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert ("; Secure" in cookie) is secure
    assert "; HttpOnly" in cookie


def test_development_server_names_no_versions(app: Flask) -> None:
    """A real server socket: Werkzeug writes ``Server`` itself, before the app's headers."""
    server = make_server("127.0.0.1", 0, app, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        conn.request("GET", "/static/roundtrip.css")
        response = conn.getresponse()
        response.read()
        servers = [v for k, v in response.getheaders() if k.lower() == "server"]
    finally:
        server.shutdown()
        thread.join()
    assert servers == ["Roundtrip"]


def test_roundtrip_run_serves_with_the_quiet_handler(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`roundtrip run` (what `make run` starts) passes the handler to Werkzeug's server."""
    import werkzeug.serving

    from app.cli import main

    calls = []
    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *a, **kw: calls.append((a, kw)))
    monkeypatch.setenv("ROUNDTRIP_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'run.sqlite3'}")

    result = CliRunner().invoke(main, ["run", "--port", "5999"])

    assert result.exit_code == 0, result.output
    ((args, kwargs),) = calls
    assert args[:2] == ("127.0.0.1", 5999)
    assert kwargs["request_handler"] is QuietRequestHandler
