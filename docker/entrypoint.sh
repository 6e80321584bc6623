#!/bin/sh
# CXM container entrypoint: the first argument picks the process.
#
#   web                 uvicorn (ASGI: HTTP + Channels websockets) on ${PORT:-8000}
#   worker [args...]    celery worker
#   beat [args...]      celery beat (schedule file under ${CXM_VAR_DIR:-/app/var})
#   migrate             manage.py migrate, then collectstatic (one-shot)
#   manage <cmd...>     any manage.py command, e.g. `manage createsuperuser`
#   healthcheck         exits 0 when the local web process answers /health/?live=1
#   anything else       executed as given (e.g. `sh`)
set -eu

cd /app

cmd="${1:-web}"
if [ "$#" -gt 0 ]; then shift; fi

case "$cmd" in
    web)
        # uvicorn itself reads WEB_CONCURRENCY (worker processes) and FORWARDED_ALLOW_IPS (proxies
        # trusted for X-Forwarded-*; default 127.0.0.1) from the environment.
        exec uvicorn cxm.asgi:application --host 0.0.0.0 --port "${PORT:-8000}" --proxy-headers "$@"
        ;;
    worker)
        exec celery -A cxm worker --loglevel "${CELERY_LOG_LEVEL:-INFO}" "$@"
        ;;
    beat)
        exec celery -A cxm beat --loglevel "${CELERY_LOG_LEVEL:-INFO}" \
            --schedule "${CXM_VAR_DIR:-/app/var}/celerybeat-schedule" "$@"
        ;;
    migrate)
        python manage.py migrate --no-input
        exec python manage.py collectstatic --no-input
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    healthcheck)
        # Liveness only: any answer below 500 means the process serves requests.
        exec python - <<'PY'
import os
import sys
import urllib.error
import urllib.request

url = "http://127.0.0.1:%s/health/?live=1" % os.environ.get("PORT", "8000")
try:
    urllib.request.urlopen(url, timeout=5)
except urllib.error.HTTPError as exc:
    sys.exit(0 if exc.code < 500 else 1)
except Exception:
    sys.exit(1)
PY
        ;;
    *)
        exec "$cmd" "$@"
        ;;
esac
