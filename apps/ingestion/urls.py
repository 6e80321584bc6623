from django.urls import path

from . import views

app_name = "ingestion"
urlpatterns = [path("<str:token>/", views.webhook, name="webhook")]
