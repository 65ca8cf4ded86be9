from django.urls import path

from qingfeng.portal import staff_views, views

app_name = "portal"

urlpatterns = [
    path("", views.report, name="report"),
    path("guidance/", views.guidance, name="guidance"),
    path("regions/<str:code>.json", views.region_children, name="region-children"),
    path("follow-up/", views.follow_up, name="follow-up"),
    path("follow-up/case/", views.follow_up_case, name="follow-up-case"),
    path("follow-up/case/messages/", views.follow_up_message, name="follow-up-message"),
    path("follow-up/case/information/", views.follow_up_information, name="follow-up-information"),
    path("follow-up/case/return-visit/", views.follow_up_return_visit, name="follow-up-return-visit"),
    path("follow-up/leave/", views.follow_up_leave, name="follow-up-leave"),
    path("staff/cases/<str:number>/", staff_views.staff_case, name="staff-case"),
    path("staff/cases/<str:number>/receipt/", staff_views.staff_receipt, name="staff-receipt"),
    path("staff/cases/<str:number>/messages/", staff_views.staff_reply, name="staff-reply"),
    path("staff/cases/<str:number>/messages/read/", staff_views.staff_mark_read, name="staff-mark-read"),
]
