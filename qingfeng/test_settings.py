"""Settings for the test suite: fast hashing, eager tasks, files in a temp folder."""

import os
import tempfile
from pathlib import Path

from qingfeng.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="qingfeng-test-media-"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(MEDIA_ROOT)}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

if IS_POSTGRES:  # noqa: F405
    # A database per test process, so parallel runs on one server never collide.
    DATABASES["default"]["TEST"] = {"NAME": f"test_qingfeng_{os.getpid()}"}  # noqa: F405
