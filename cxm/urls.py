from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from apps.accounts.signin import ThrottledAdminAuthenticationForm, ThrottledAuthenticationForm
from apps.accounts.views import PasswordResetForm, home
from apps.core.views import health

admin.site.site_header = "CXM administration"
admin.site.site_title = "CXM admin"
admin.site.login_form = ThrottledAdminAuthenticationForm  # the same guessing limits as the login page

urlpatterns = [
    path("", home, name="home"),
    path("health/", health, name="health"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=ThrottledAuthenticationForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # People choose their own password, through their own email: no admin sets it for them.
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(form_class=PasswordResetForm),
        name="password_reset",
    ),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path("org/", include("apps.accounts.urls")),
    path("org/channels/", include("apps.ingestion.channel_urls")),
    path("org/listening/", include("apps.listening.urls")),
    path("org/classifiers/", include("apps.classification.urls")),
    path("org/webhooks/", include("apps.webhooks.urls")),
    path("org/routing/", include("apps.routing.urls")),
    path("automation/", include("apps.automation.urls")),
    path("alerts/", include("apps.alerts.urls")),
    path("inbox/", include("apps.inbox.urls")),
    path("inbox/replies/", include("apps.replies.urls")),
    path("customers/", include("apps.customers.urls")),
    path("search/", include("apps.search.urls")),
    path("read/", include("apps.reader.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("dashboards/", include("apps.analytics.urls")),
    path("hooks/", include("apps.ingestion.urls")),
    path("livechat/", include("apps.connectors.livechat.urls")),
    # /api/ is where people look first: it leads to the current version's docs.
    path("api/", RedirectView.as_view(pattern_name="api:docs"), name="api_home"),
    path("api/v1/", include("apps.api.urls")),
    path("org/api-tokens/", include("apps.api.page_urls")),
    path("admin/", admin.site.urls),
]
