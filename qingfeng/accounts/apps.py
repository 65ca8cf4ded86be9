from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "qingfeng.accounts"
    label = "accounts"
