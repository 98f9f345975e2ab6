"""URL routes."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("approvals.api_urls")),  # REST API, /api/schema/, /api/docs/
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("approvals.urls")),
]

# Refusals Django makes itself (too many fields, a body too big): JSON on /api/.
handler400 = "approvals.views.bad_request"
