"""config.wsgi: the application is loaded whole before the first request, and what is loaded is
out of the garbage collector's sight (see the module's docstring)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_wsgi_module_loads_the_urlconf_and_freezes_what_is_loaded():
    script = (
        "import gc, sys; import config.wsgi as w; "
        "print(gc.get_freeze_count(), 'marketplace.api' in sys.modules, 'cms.shop_views' in sys.modules, "
        "callable(w.application))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.split()
    frozen, views_loaded, cms_loaded, app = int(out[0]), out[1], out[2], out[3]
    assert frozen > 100_000, frozen
    assert (views_loaded, cms_loaded, app) == ("True", "True", "True")
