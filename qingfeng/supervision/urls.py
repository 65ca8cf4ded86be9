from django.urls import path

from qingfeng.supervision import notification_views, views

app_name = "supervision"

urlpatterns = [
    path("", views.sent_down, name="sent-down"),
    path("overdue/", views.overdue, name="overdue"),
    path("mine/", views.mine, name="mine"),
    path("cases/<str:number>/", views.case_page, name="case"),
    path("cases/<str:number>/mark/", views.mark, name="mark"),
    path("cases/<str:number>/chase/", views.chase, name="chase"),
    path("cases/<str:number>/close/<int:mark_id>/", views.close, name="close"),
    path("cases/<str:number>/seen/<int:chase_id>/", views.seen, name="seen"),
    path("fragments/sent-down/", views.sent_down_fragment, name="fragment-sent-down"),
    path("fragments/overdue/", views.overdue_fragment, name="fragment-overdue"),
    path("fragments/home-panel/", views.home_panel_fragment, name="fragment-home-panel"),
    path("fragments/case/<str:number>/", views.case_fragment, name="fragment-case"),
    path("notifications/", notification_views.notifications, name="notifications"),
    path("notifications/unread.json", notification_views.unread_json, name="notifications-unread"),
    path("notifications/read-all/", notification_views.notifications_read_all, name="notifications-read-all"),
    path("notifications/<int:notification_id>/read/", notification_views.notification_read, name="notification-read"),
]
