import logging
import time
import uuid

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

from .logging import request_id_var

logger = logging.getLogger("cxm.request")


class RequestIdMiddleware:
    """Tags every log line of a request with one id, echoed back in the X-Request-ID header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        token = request_id_var.set(request_id[:64])
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id_var.get()
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


# How long clients are told to wait before trying again while the database is down.
RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware:
    """A request that meets a database down or unreachable is answered 503 with Retry-After, as a
    temporary state, not as a 500 (platforms deliver a webhook again; browsers and API clients retry)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning("database unavailable", exc_info=exception, extra={"path": request.path})
        response = JsonResponse({"error": "temporarily unavailable; try again later"}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
