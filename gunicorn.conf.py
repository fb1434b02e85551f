"""gunicorn settings for production behind nginx; every value can be overridden by GUNICORN_* env vars."""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# One process per core, four threads each (gthread). Measured with `make bench`'s load part on this 2-core box,
# 32 clients, same database, settings alternated: 2x4 gave 100-180 req/s where the old 5 workers x 2 threads
# gave 14-40 and 3x4 36-76. More processes than cores only fight over the CPU (each holds its own GIL and
# caches); the threads overlap database waits and keep a long analysis in a request from blocking the worker.
# Sync workers (threads=1) gave 45-53. Keep GUNICORN_THREADS <= the SQLAlchemy pool size (5, models/database.py).
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Analyses of big files run for tens of seconds in the request unless a worker queue is used.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a pandas-heavy worker gives its memory back, but rarely: at 500 a worker
# restarted ~25 times a minute under load, halving read throughput (`make bench` prints both settings side by
# side; see README "Benchmarks"). 10,000 means a restart every couple of minutes per worker at full load.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# No gunicorn access log: the app writes one line per request itself, with its request id (middlewares/
# request_context.py); a second line per request cost CPU for nothing the first does not say.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
