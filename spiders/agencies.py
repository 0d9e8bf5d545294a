"""Zone-only profiles for agency sites the archive meets without a spider of its own.

Their pages often print local times without an offset; the site's zone keeps those
timestamps from being left unzoned. Everything else comes from the generic layer.
"""

from __future__ import annotations

from newsarchive.extract.profile import SiteProfile

SPUTNIK = SiteProfile(name="sputnik", domains=("sputniknews.com",), timezone="Europe/Moscow")
UKRINFORM = SiteProfile(
    name="ukrinform",
    domains=("ukrinform.ua", "ukrinform.net", "ukrinform.ru", "ukrinform.de", "ukrinform.fr",
             "ukrinform.es", "ukrinform.pl", "ukrinform.jp"),
    timezone="Europe/Kyiv",
)
# Xinhua's Chinese pages (www.news.cn); english.news.cn keeps its own profile (spiders.xinhua)
XINHUA_ZH = SiteProfile(name="xinhua_zh", domains=("news.cn",), timezone="Asia/Shanghai")
AFPBB = SiteProfile(name="afpbb", domains=("afpbb.com",), timezone="Asia/Tokyo")
ANSA = SiteProfile(name="ansa", domains=("ansa.it",), timezone="Europe/Rome")
YONHAP = SiteProfile(name="yonhap", domains=("yna.co.kr", "yonhapnews.co.kr"), timezone="Asia/Seoul")
KYODO = SiteProfile(name="kyodo", domains=("kyodonews.net", "kyodonews.jp"), timezone="Asia/Tokyo")
