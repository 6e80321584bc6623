from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/export/", views.export, name="export"),
    path("<int:pk>/erase/", views.erase, name="erase"),
    path("suggestions/<int:pk>/", views.suggestion_decide, name="suggestion_decide"),
    path("merges/<int:pk>/undo/", views.unmerge, name="unmerge"),
]
