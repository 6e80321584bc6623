from django.urls import path

from . import views

app_name = "inbox"
urlpatterns = [
    path("", views.index, name="index"),
    path("c/<int:pk>/", views.conversation_detail, name="conversation"),
    path("c/<int:pk>/action/", views.conversation_action, name="conversation_action"),
    path("m/<int:pk>/correct/", views.message_correct, name="correct"),
]
