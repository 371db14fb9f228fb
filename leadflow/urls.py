from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from leadflow import views
from web.views.public import form_post

urlpatterns = [
    # The API first: its requests (intake, events) are the most frequent, and resolve without
    # trying the web UI's routes.
    path("api/v1/", include("leads.urls")),
    path("api/v1/", include("scoring.urls")),
    path("api/v1/", include("handoff.urls")),
    path("api/v1/", include("analytics.urls")),
    path("api/v1/", include("accounts.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its setup script as a file; its page keeps one inline <style>.
    path(
        "api/v1/docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="docs",
    ),
    path("", include("web.urls")),
    path("forms/<str:public_key>/", form_post, name="public-form"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
]

handler400 = "leadflow.problems.handler400"
handler403 = "leadflow.problems.handler403"
handler404 = "leadflow.problems.handler404"
handler500 = "leadflow.problems.handler500"
