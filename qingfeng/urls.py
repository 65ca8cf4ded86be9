from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authtoken.views import obtain_auth_token

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("", include("qingfeng.cases.api_urls")),
    path("", include("qingfeng.offices.api_urls")),
    path("", include("qingfeng.supervision.api_urls")),
    path("", include("qingfeng.analytics.api_urls")),
    path("portal/", include("qingfeng.portal.api_urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script from this URL, so the Content-Security-Policy needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("supervision/", include("qingfeng.supervision.urls")),
    path("analytics/", include("qingfeng.analytics.urls")),
    path("portal/", include("qingfeng.portal.urls")),
    path("protection/", include("qingfeng.protection.urls")),
    path("", include("qingfeng.web.urls")),
]
