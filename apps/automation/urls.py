from django.urls import path

from . import views

app_name = "automation"
urlpatterns = [
    path("", views.rule_list, name="rules"),
    path("rules/new/", views.rule_new, name="rule_new"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/preview/", views.rule_preview, name="rule_preview"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("auto-replies/new/", views.auto_reply_edit, name="auto_reply_new"),
    path("auto-replies/<int:pk>/", views.auto_reply_edit, name="auto_reply_edit"),
    path("surveys/<int:brand_id>/", views.survey_settings_edit, name="survey_settings"),
    path("satisfaction/", views.satisfaction, name="satisfaction"),
    path("survey/<str:signed>/", views.survey_public, name="survey_public"),
]
