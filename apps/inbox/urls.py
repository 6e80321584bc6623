from django.urls import path

from . import views

app_name = "inbox"
urlpatterns = [
    path("", views.index, name="index"),
    path("bulk/", views.bulk_action, name="bulk"),
    path("views/", views.saved_view_create, name="saved_view_create"),
    path("views/<int:pk>/delete/", views.saved_view_remove, name="saved_view_delete"),
    path("c/<int:pk>/", views.conversation_detail, name="conversation"),
    path("c/<int:pk>/thread/", views.conversation_thread_partial, name="conversation_thread"),
    path("c/<int:pk>/action/", views.conversation_action, name="conversation_action"),
    path("c/<int:pk>/notes/", views.note_create, name="note_create"),
    path(
        "c/<int:pk>/suggestions/<int:suggestion_pk>/",
        views.profile_suggestion_decide,
        name="profile_suggestion_decide",
    ),
    path("c/<int:pk>/merges/<int:merge_pk>/undo/", views.profile_unmerge, name="profile_unmerge"),
    path("m/<int:pk>/correct/", views.message_correct, name="correct"),
]
