from django.urls import path

from . import views

app_name = "classification"
urlpatterns = [
    path("", views.classifiers, name="classifiers"),
    path("train/", views.train, name="train"),
    path("settings/", views.update_settings, name="settings"),
    path("deactivate/", views.deactivate, name="deactivate"),
    path("v/<int:pk>/progress/", views.version_progress, name="progress"),
    path("v/<int:pk>/activate/", views.activate, name="activate"),
]
