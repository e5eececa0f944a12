"""The WSGI entry point of an installed package: gunicorn serves `prefcenter.wsgi:app`."""

from . import create_app
from .platform.config import ConfigError, exit_with

try:
    app = create_app()
except ConfigError as exc:
    exit_with(exc)
