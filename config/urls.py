"""URL routes."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView


class FaviconView(RedirectView):
    """/favicon.ico, asked for by browsers whatever the page links: the SVG icon."""

    permanent = False

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")  # its hashed name once collectstatic ran


urlpatterns = [
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("admin/", admin.site.urls),
    path("api/", include("approvals.api_urls")),  # REST API, /api/schema/, /api/docs/
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("approvals.urls")),
]

# Refusals Django makes itself (too many fields, a body too big): JSON on /api/.
handler400 = "approvals.views.bad_request"
