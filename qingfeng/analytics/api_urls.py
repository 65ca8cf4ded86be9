from django.urls import path

from qingfeng.analytics import api

urlpatterns = [
    path("analytics/statistics/", api.StatisticsApi.as_view(), name="api-analytics-statistics"),
    path("analytics/trend/", api.TrendApi.as_view(), name="api-analytics-trend"),
    path("analytics/daily/", api.DailyApi.as_view(), name="api-analytics-daily"),
    path("analytics/topics/", api.TopicListApi.as_view(), name="api-analytics-topics"),
    path("analytics/topics/<slug:code>/", api.TopicDetailApi.as_view(), name="api-analytics-topic"),
    path(
        "analytics/topics/<slug:code>/statistics/",
        api.TopicStatisticsApi.as_view(),
        name="api-analytics-topic-statistics",
    ),
    path("analytics/warnings/", api.WarningListApi.as_view(), name="api-analytics-warnings"),
    path(
        "analytics/warnings/<int:pk>/acknowledge/",
        api.decision_view("acknowledged").as_view(),
        name="api-analytics-warning-acknowledge",
    ),
    path(
        "analytics/warnings/<int:pk>/dismiss/",
        api.decision_view("dismissed").as_view(),
        name="api-analytics-warning-dismiss",
    ),
    path("analytics/reports/", api.ReportApi.as_view(), name="api-analytics-report"),
]
