from django.urls import path

from qingfeng.offices import api

app_name = "offices"

urlpatterns = [
    path("offices/", api.OfficeListView.as_view(), name="office-list"),
    path("offices/<str:code>/", api.OfficeDetailView.as_view(), name="office-detail"),
    path("offices/<str:code>/subtree/", api.OfficeSubtreeView.as_view(), name="office-subtree"),
]
