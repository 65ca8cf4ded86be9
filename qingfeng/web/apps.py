from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "qingfeng.web"
    label = "web"
