"""Sign-in that lands each role on its work (core.landing decides where; a safe ``next`` wins)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views

from .landing import landing_url_for


class RoleLoginView(auth_views.LoginView):
    template_name = "core/login.html"

    def get_default_redirect_url(self):
        # reached only when there is no safe ``next`` (LoginView.get_success_url checks it first)
        return landing_url_for(self.request.user)
