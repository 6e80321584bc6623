from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("panel/<slug:name>/", views.dashboard_panel, name="panel"),
    path("export/<slug:name>.csv", views.export, name="export"),
]
