from django.urls import path

from . import views

app_name = "search"
urlpatterns = [
    path("", views.index, name="index"),
    path("reindex/", views.reindex, name="reindex"),
    path("reindex/start/", views.reindex_start, name="reindex_start"),
    path("reindex/progress/", views.reindex_progress, name="reindex_progress"),
]
