"""Settings for benchmarks/portal.py: the production settings plus the portal, until the lead wires it in.

Every benchmark client connects from 127.0.0.1, so the per-address submission limit is raised;
the limiter itself still runs (its counter is read and bumped on every report).
"""

from pathlib import Path

from qingfeng.settings import *  # noqa: F403
from qingfeng.settings import INSTALLED_APPS as _APPS

INSTALLED_APPS = [*_APPS, "qingfeng.portal"] if "qingfeng.portal" not in _APPS else list(_APPS)
if "qingfeng.portal.urls" not in (Path(__file__).resolve().parent.parent / "urls.py").read_text(encoding="utf-8"):
    ROOT_URLCONF = "qingfeng.portal.urls_local"
QINGFENG_PORTAL_THROTTLES = {"submissions_ip": (1_000_000_000, 3600)}
