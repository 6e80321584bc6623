from django.urls import path

from . import views

app_name = "listening"
urlpatterns = [
    path("", views.query_list, name="list"),
    path("new/", views.query_edit, name="new"),
    path("<int:pk>/", views.query_edit, name="edit"),
    path("preview/", views.query_preview, name="preview"),
]
