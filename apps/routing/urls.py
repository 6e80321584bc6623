from django.urls import path

from . import views

app_name = "routing"
urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("availability/", views.availability, name="availability"),
    path("agents/<int:pk>/", views.agent_update, name="agent"),
    path("weights/", views.weights_update, name="weights"),
    path("teams/<int:pk>/", views.team_update, name="team"),
    path("policies/new/", views.policy_new, name="policy_new"),
    path("policies/<int:pk>/", views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/delete/", views.policy_delete, name="policy_delete"),
    path("hours/new/", views.hours_new, name="hours_new"),
    path("hours/<int:pk>/", views.hours_edit, name="hours_edit"),
    path("hours/<int:pk>/delete/", views.hours_delete, name="hours_delete"),
    path("hours/<int:pk>/holidays/", views.holiday_add, name="holiday_add"),
    path("holidays/<int:pk>/delete/", views.holiday_delete, name="holiday_delete"),
    path("sla/", views.sla_report, name="sla_report"),
]
