from django.urls import path

from . import shelf_views, views

app_name = "replies"
urlpatterns = [
    path("c/<int:pk>/", views.composer, name="composer"),
    path("c/<int:pk>/check/", views.check, name="check"),
    path("c/<int:pk>/compose/", views.compose, name="compose"),
    path("c/<int:pk>/suggestions/", views.suggestions, name="suggestions"),
    path("c/<int:pk>/deliveries/", views.deliveries, name="deliveries"),
    path("m/<int:pk>/retry/", views.retry, name="retry"),
    # Saved replies and macros: their pages, the composer's picker, macro runs.
    path("saved/", shelf_views.saved_replies, name="saved_replies"),
    path("saved/new/", shelf_views.saved_reply_new, name="saved_reply_new"),
    path("saved/<int:pk>/", shelf_views.saved_reply_edit, name="saved_reply_edit"),
    path("saved/<int:pk>/delete/", shelf_views.saved_reply_delete, name="saved_reply_delete"),
    path("macros/", shelf_views.macros, name="macros"),
    path("macros/new/", shelf_views.macro_new, name="macro_new"),
    path("macros/<int:pk>/", shelf_views.macro_edit, name="macro_edit"),
    path("macros/<int:pk>/delete/", shelf_views.macro_delete, name="macro_delete"),
    path("macros/bulk/", shelf_views.bulk_macros, name="bulk_macros"),
    path("macros/bulk/run/", shelf_views.macro_run_bulk, name="macro_run_bulk"),
    path("macros/runs/<int:pk>/undo/", shelf_views.macro_run_undo, name="macro_run_undo"),
    path("c/<int:pk>/picker/", shelf_views.picker, name="picker"),
    path("c/<int:pk>/saved/<int:saved_reply>/use/", shelf_views.saved_reply_use, name="saved_reply_use"),
    path("c/<int:pk>/macros/run/", shelf_views.macro_run_one, name="macro_run"),
]
