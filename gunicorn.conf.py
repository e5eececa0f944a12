"""Production server settings: `gunicorn -c gunicorn.conf.py` (README, "Running in production")."""

import os
import subprocess
import sys

# Settings that cannot run the app stop the server here, with one line naming the variable and
# status 2. Left to the workers, each would fail to boot with a traceback. Checked in a child
# process: importing the app into this master would load it before the gevent workers patch the
# standard library (see worker_class below).
_checked = subprocess.run(
    [
        sys.executable,
        "-c",
        "from prefcenter.platform.config import check_environment; check_environment()",
    ],
    check=False,
)
if _checked.returncode:
    sys.exit(_checked.returncode)

# Where to listen; behind a load balancer this is usually all interfaces.
bind = os.environ.get("BIND", "0.0.0.0:" + os.environ.get("PORT", "8000"))
# In the installed package, so the server runs from any directory.
wsgi_app = "prefcenter.wsgi:app"


def _usable_cpus() -> int:
    """The CPUs this process may run on. A container's cpuset or `taskset` can allow fewer
    than the machine has, and os.cpu_count() counts the machine's: on a host of 64 cores it
    would start 64 workers for 2. (A CPU quota, such as Docker's --cpus, leaves every CPU
    usable for part of the time: set WEB_CONCURRENCY there.)"""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this system (macOS)
        return os.cpu_count() or 2


# Each worker process builds its own app: one pooled Courier client and catalog cache each.
workers = int(os.environ.get("WEB_CONCURRENCY", _usable_cpus()))
# gevent, not threads: a thread worker gives each new connection a thread that then blocks
# until the request's headers are in, so 16 clients sending theirs slowly held every thread of
# 2 workers x 8 and the page stopped answering. Under gevent a waiting connection costs a
# greenlet, not a thread, and one whose request head takes longer than `keepalive` (below) is
# closed. Requests mostly wait on Courier, which greenlets do as well as threads. The worker
# patches the standard library before it loads the app, so the app's locks, writer pool and
# httpx client cooperate unchanged; never set preload_app, which would build them unpatched.
worker_class = "gevent"
# Open connections per worker, idle and slow ones included; each holds a file descriptor, so
# keep `ulimit -n` above this plus the Courier client's pool (100).
worker_connections = int(os.environ.get("PREFCENTER_WORKER_CONNECTIONS", "1000"))

# A page waits at most the Courier retry budget (8 s by default); leave room beyond it.
timeout = 30
graceful_timeout = 20
# Under gevent this is also all the time a client gets to send a request's line and headers,
# the first request's too: raising it (as some do behind a load balancer) lets a slow client
# hold its connection that much longer.
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


def post_worker_init(worker):
    """Leave select.poll native in each worker, once gevent has patched the standard library.

    Before every Courier call, and again after it, httpx's pool (httpcore) asks of each idle
    pooled connection whether Courier has closed it, with a poll that must not wait
    (timeout 0). gevent's cooperative poll makes that check a trip through its event loop:
    about 20 us against 1 us natively, for each idle connection, so with a busy worker's pool
    it cost a page view some tenths of a millisecond of CPU. A poll that does not wait cannot
    block the worker. select.select, selectors and sockets stay gevent's, and nothing else
    the worker runs calls select.poll (gevent replaces subprocess, its one other user).
    """
    import select

    from gevent import monkey

    if monkey.is_object_patched("select", "poll"):
        select.poll = monkey.get_original("select", "poll")
