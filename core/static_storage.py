"""whitenoise's compressed manifest storage (production), each static file's URL worked out once
per process.

Every page's header links its stylesheets with ``{% static %}``, and for each the manifest storage
split, unquoted, looked up and joined the name again: some 2 % of a browser's order. The manifest
is read when the process starts and collectstatic runs before the server does (README), so a
name's URL stays the same for the life of the process. A name the manifest lacks still raises, on
every call, as Django's storage does."""

from __future__ import annotations

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage

# names are the templates' literals and the admin's assets: a few hundred; past this many, the
# rest are worked out on each call
URLS_KEPT = 4096


class RememberingStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name, force=False):
        if force or settings.DEBUG:  # DEBUG serves the names unhashed, as Django's storage does
            return super().url(name, force)
        url = self._urls.get(name)
        if url is None:
            url = super().url(name)
            if len(self._urls) < URLS_KEPT:
                self._urls[name] = url
        return url
