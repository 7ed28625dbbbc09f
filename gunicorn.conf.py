"""gunicorn's settings for serving Partner Center: ``gunicorn partnercenter.wsgi`` run from this
folder reads them (or name the file with ``-c gunicorn.conf.py``). Command-line options win.

Threaded workers keep a client's connection open between requests (HTTP keep-alive, as a
reverse proxy or a browser uses it); gunicorn's default sync worker closes it after every
response. Under the load run of issue 9 (4 workers, ``wrk -t2 -c8``) that alone took the
customer list from 162 to 182 pages a second on a 2-core machine: no new connection, accept
and teardown per request. Each thread holds its own database connection, kept for
``CONN_MAX_AGE`` seconds (60 here unless set: gunicorn reuses its threads, so a connection serves
request after request), so PostgreSQL sees workers × threads connections. The settings' own
default is 0, a connection per request, for servers that start a thread per request
(runserver)."""
import multiprocessing
import os
import sys

# Numbers are read as the settings read theirs (a range, a message naming the variable), also
# when gunicorn is started from another folder with -c.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from partnercenter.env import env_int  # noqa: E402

# Read by partnercenter.settings when each worker loads the application.
os.environ.setdefault("CONN_MAX_AGE", "60")

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = env_int("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count(), minimum=1, maximum=256)
worker_class = "gthread"
threads = env_int("GUNICORN_THREADS", 2, minimum=1, maximum=256)
# Seconds an idle kept-alive connection stays open; a proxy in front should keep its own
# upstream keep-alive shorter than this.
keepalive = env_int("GUNICORN_KEEPALIVE", 5, minimum=0, maximum=3600)
# A request that has not answered in this many seconds is killed with its worker; the database
# stops any statement after DB_STATEMENT_TIMEOUT_MS (30 s) on its own.
timeout = env_int("GUNICORN_TIMEOUT", 60, minimum=1, maximum=3600)
graceful_timeout = 30
