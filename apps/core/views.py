from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import health_report


@never_cache
@require_GET
def health(request):
    """200 when every component is up, 503 otherwise; `?live=1` answers only that the process serves."""
    if request.GET.get("live"):
        return JsonResponse({"status": "ok"})
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
