"""Production server settings: `gunicorn -c gunicorn.conf.py` (README, "Running in production")."""

import os

# Where to listen; behind a load balancer this is usually all interfaces.
bind = os.environ.get("BIND", "0.0.0.0:" + os.environ.get("PORT", "8000"))
wsgi_app = "app:app"

# Each worker process builds its own app: one pooled Courier client and catalog cache each.
# Requests mostly wait on Courier, so threads keep a worker busy while calls are in flight.
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
worker_class = "gthread"
threads = int(os.environ.get("PREFCENTER_THREADS", "8"))

# A page waits at most the Courier retry budget (8 s by default); leave room beyond it.
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 10000  # recycle workers now and then, staggered
max_requests_jitter = 1000

# The app writes one JSON line per request itself, with the route pattern rather than the
# path, because paths carry sign-in tokens. Gunicorn's own access log would print them.
accesslog = None
errorlog = "-"

# Which proxies may set X-Forwarded-*; also set PREFCENTER_PROXY_FIX_HOPS for the app.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Gunicorn's runtime control socket (one per user by default, ~/.gunicorn/gunicorn.ctl) would
# be shared by every instance on the machine; this app needs none.
control_socket_disable = True
