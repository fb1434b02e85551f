"""gunicorn settings for production behind nginx; every value can be overridden by GUNICORN_* env vars."""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# Analyses of big files run for tens of seconds in the request unless a worker queue is used.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a pandas-heavy worker gives its memory back, but rarely: at 500 a worker
# restarted ~25 times a minute under load, halving read throughput (`make bench` prints both settings side by
# side; see README "Benchmarks"). 10,000 means a restart every couple of minutes per worker at full load.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
