from django.urls import path

from . import views

app_name = "replies"
urlpatterns = [
    path("c/<int:pk>/", views.composer, name="composer"),
    path("c/<int:pk>/check/", views.check, name="check"),
    path("c/<int:pk>/compose/", views.compose, name="compose"),
    path("c/<int:pk>/suggestions/", views.suggestions, name="suggestions"),
    path("c/<int:pk>/deliveries/", views.deliveries, name="deliveries"),
    path("m/<int:pk>/retry/", views.retry, name="retry"),
]
