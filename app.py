"""Entry point for `flask --app app` in a checkout; gunicorn serves `prefcenter.wsgi:app`."""

from prefcenter.wsgi import app

__all__ = ["app"]
