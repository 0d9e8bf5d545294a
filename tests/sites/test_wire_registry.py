"""Every wire service we own is registered: profile entry point, spider name and domains agree."""

from __future__ import annotations

import importlib
from urllib.parse import urlsplit

import pytest

from newsarchive.extract.profile import PROFILE_FIELDS, SiteProfile
from newsarchive.extract.registry import load_profiles, profile_for
from spiders.base import NewsSpider

KEYS = ("tass_ru", "ap", "reuters", "interfax", "xinhua", "anadolu")


def spider_of(key: str) -> type[NewsSpider]:
    module = importlib.import_module(f"spiders.{key}")
    (cls,) = [v for v in vars(module).values()
              if isinstance(v, type) and issubclass(v, NewsSpider) and v is not NewsSpider]
    return cls


@pytest.mark.parametrize("key", KEYS)
def test_profile_is_registered_under_its_key(key: str) -> None:
    module = importlib.import_module(f"spiders.{key}")
    assert isinstance(module.PROFILE, SiteProfile)
    assert load_profiles()[key] is module.PROFILE
    assert module.PROFILE.name == key


@pytest.mark.parametrize("key", KEYS)
def test_spider_name_profile_and_base_url_agree(key: str) -> None:
    cls = spider_of(key)
    assert cls.name == key
    assert cls.profile is importlib.import_module(f"spiders.{key}").PROFILE
    assert profile_for(cls.base_url + "/x/1") is cls.profile, urlsplit(cls.base_url).hostname


@pytest.mark.parametrize("key", KEYS)
def test_profile_names_only_known_fields(key: str) -> None:
    profile = importlib.import_module(f"spiders.{key}").PROFILE
    assert set(profile.fields) <= PROFILE_FIELDS
    if profile.timezone:
        from zoneinfo import ZoneInfo

        ZoneInfo(profile.timezone)


@pytest.mark.parametrize("key", KEYS)
def test_spider_declares_some_discovery(key: str) -> None:
    info = spider_of(key).discovery()
    assert info["feeds"] or info["sitemaps"] or info["sections"] or info["start_pages"]
    assert info["article_pattern"] != "."
