"""Site profiles by URL host, found through the ``newsarchive.profiles`` entry-point group.

``newsarchive`` never imports ``spiders`` directly: each profile is registered as an entry
point (name = site key, value = ``spiders.<service>:PROFILE``) and loaded on the first
lookup, once per process.
"""

from __future__ import annotations

import logging
import threading
from importlib.metadata import entry_points
from urllib.parse import urlsplit

from newsarchive.extract.profile import SiteProfile

log = logging.getLogger(__name__)

GROUP = "newsarchive.profiles"

_lock = threading.Lock()
_profiles: dict[str, SiteProfile] | None = None


def load_profiles() -> dict[str, SiteProfile]:
    """Every registered profile by site key (loaded once; broken entry points are logged and skipped)."""
    global _profiles
    if _profiles is not None:
        return _profiles
    with _lock:
        if _profiles is None:
            found: dict[str, SiteProfile] = {}
            for ep in entry_points(group=GROUP):
                try:
                    profile = ep.load()
                except Exception as exc:  # a broken site module must not break extraction
                    log.warning("site profile %r (%s) failed to load: %s", ep.name, ep.value, exc)
                    continue
                if isinstance(profile, SiteProfile):
                    found[ep.name] = profile
                else:
                    log.warning("entry point %r (%s) is not a SiteProfile", ep.name, ep.value)
            _profiles = found
    return _profiles


def profile_for(url: str | None) -> SiteProfile | None:
    """The profile whose domains cover ``url``'s host (the most specific domain wins), or None."""
    if not url:
        return None
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    if not host:
        return None
    best: tuple[int, SiteProfile] | None = None
    for profile in load_profiles().values():
        for domain in profile.domains:
            domain = domain.lower().lstrip(".")
            if (host == domain or host.endswith("." + domain)) and (best is None or len(domain) > best[0]):
                best = (len(domain), profile)
    return best[1] if best else None
