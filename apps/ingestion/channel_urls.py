from django.urls import path

from . import channel_views as views

# The channel pages keep the URL names they had when they lived in connectors ("connectors:detail"...).
app_name = "connectors"
urlpatterns = [
    path("", views.channel_list, name="list"),
    path("new/", views.channel_new, name="new"),
    path("new/<slug:kind>/", views.channel_create, name="create"),
    path("<int:pk>/settings/", views.channel_settings, name="settings"),
    path("<int:pk>/webhook/register/", views.channel_webhook_register, name="webhook_register"),
    path("<int:pk>/", views.channel_detail, name="detail"),
    path("<int:pk>/status/", views.channel_status, name="status"),
    path("<int:pk>/test/", views.channel_test_view, name="test"),
    path("payloads/<int:pk>/replay/", views.payload_replay_view, name="replay"),
    path("<int:pk>/import/", views.import_start, name="import"),
    path("imports/<int:pk>/", views.import_progress, name="import_progress"),
]
