"""The web application: everything that knows about HTTP lives under ``app.web``."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.config import Config


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application; reads like a table of contents."""
    app = Flask(__name__, instance_path=Config().INSTANCE_PATH if test_config is None else None)
    app.config.from_mapping(Config().as_dict() if test_config is None else {})
    if test_config is not None:
        app.config.from_mapping(test_config)
    register_database(app)
    register_queue(app)
    sweep_abandoned_runs(app)
    register_security(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_scheduler(app)
    return app


def register_database(app: Flask) -> None:
    from app.web import database

    database.init_app(app)


def register_queue(app: Flask) -> None:
    from app.web import background, observability

    background.init_app(app)
    observability.init_app(app, lambda: app.extensions[background.QUEUE_KEY].depth())


def register_security(app: Flask) -> None:
    from app.web import security

    if app.config.get("PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    security.register_security(app)


def sweep_abandoned_runs(app: Flask) -> None:
    """At start-up, planning runs left 'solving' by a process that died are marked failed
    (those whose lease ran out; a run another process still renews is left alone)."""
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    from app.db import session_scope, utcnow
    from app.planning import services as planning_services
    from app.web.database import EXTENSION_KEY

    try:
        with session_scope(app.extensions[EXTENSION_KEY]) as session:
            swept = planning_services.expire_abandoned(session, now=utcnow())
    except SQLAlchemyError:  # `roundtrip db upgrade` on a database not yet migrated
        logging.getLogger(__name__).info("no sweep of planning runs at start-up", exc_info=True)
        return
    if swept:
        logging.getLogger(__name__).warning("planning runs %s lost their worker", swept)


def register_extensions(app: Flask) -> None:
    from app.web import assets, auth, filters, i18n

    auth.init_app(app)
    i18n.init_app(app)
    assets.init_app(app)
    filters.init_app(app)


def register_blueprints(app: Flask) -> None:
    from app.web import (
        admin,
        courier,
        dashboard,
        dispatcher,
        fleet,
        help,
        help_desk,
        lots,
        notifications,
        portal,
        public,
        returns_desk,
        support,
        support_cases,
        tracking,
    )
    from app.web.api import init_app as init_api

    for module in (public, admin, dispatcher, fleet, courier, support, notifications, portal):
        app.register_blueprint(module.bp)
    for module in (tracking, lots, returns_desk, support_cases, help, help_desk, dashboard):
        app.register_blueprint(module.bp)
    init_api(app)


def register_errorhandlers(app: Flask) -> None:
    from app.web import errors

    errors.init_app(app)


def register_scheduler(app: Flask) -> None:
    """The embedded mode's scheduler on a thread of this process, when configured (on for
    `make run`; off in tests and under gunicorn, where `python -m app.scheduler` runs it)."""
    if not app.config.get("SCHEDULER_ENABLED"):
        return
    from app.scheduler import beat, schedule_from_config
    from app.web.background import queue
    from app.web.database import EXTENSION_KEY

    with app.app_context():
        scheduler = beat(app.extensions[EXTENSION_KEY], queue(), schedule_from_config(app.config))
    scheduler.start()
    app.extensions["roundtrip.scheduler"] = scheduler
