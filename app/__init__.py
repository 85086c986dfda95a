"""Roundtrip: delivery and returns operations.

Kept import-light on purpose: workers and jobs that import ``app.orders`` must not load Flask.
The web application lives in :mod:`app.web` (``create_app``).
"""
