from django.urls import path

from . import views

app_name = "livechat"
urlpatterns = [path("<str:token>/demo/", views.demo, name="demo")]
