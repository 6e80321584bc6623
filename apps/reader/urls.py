from django.urls import path

from . import views

app_name = "reader"
urlpatterns = [
    path("", views.conversation_list, name="conversations"),
    path("conversations/<int:pk>/", views.conversation_detail, name="conversation"),
    path("authors/<int:pk>/", views.author_messages, name="author"),
]
