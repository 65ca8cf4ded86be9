import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qingfeng.settings")
application = get_wsgi_application()

# Load jieba's dictionary when a worker starts, not on the first search a user makes (about 1 s).
from qingfeng.core.text import tokens  # noqa: E402

tokens("预热")
