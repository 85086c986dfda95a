"""Entry point of the web tier for a WSGI server: ``gunicorn app.wsgi:app``."""

from app import logs
from app.web import create_app

logs.configure("web")
app = create_app()
