"""Database passwords kept out of every message, log line, run record and journal.

``mask_url`` renders a URL for people (SQLAlchemy's own ``hide_password`` where the URL
parses, a conservative cut where it does not). ``register_url`` remembers a URL's password,
and ``install`` puts a log-record factory in place that replaces every remembered password,
and the password of any ``scheme://user:password@`` URL, in each record before any handler
(Scrapy's, a log file, the run record's error collector) sees it.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from urllib.parse import quote, unquote

MASK = "***"
#: a password given as a key=value pair: a URL's query, a libpq conninfo string, a dict's repr
_SECRET_PARAMS = re.compile(
    r"(?i)((?:^|(?<=[\s?&;,{(]))['\"]?(?:password|passwd|pwd|sslpassword|secret|token|api_key)['\"]?"
    r"\s*[=:]\s*['\"]?)[^&;#\s'\",})]*")
#: the password in any URL written into a message: scheme://user:PASSWORD@
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s/:@'\"]*:)[^\s@'\"]*@")
#: shorter passwords are masked only inside URLs: replacing e.g. "pw" everywhere would garble the logs
MIN_FREE_SECRET = 4

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def mask_url(url: str) -> str:
    """``url`` for messages: its password (and password-like query values) replaced by ``***``."""
    from sqlalchemy.engine import make_url

    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except Exception:
        shown = _mask_unparsed(url)
    return _SECRET_PARAMS.sub(lambda m: m.group(1) + MASK, shown)


def _mask_unparsed(text: str) -> str:
    # what SQLAlchemy cannot parse may still hold user:password@: everything between the
    # first ':' of the user part and the last '@' goes, even if that takes more than the password
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    if "@" not in rest:
        return text
    userinfo, host = rest.rsplit("@", 1)
    user, colon, _ = userinfo.partition(":")
    masked = f"{user}:{MASK}" if colon else userinfo
    return f"{scheme}{sep}{masked}@{host}"


def url_secrets(url: str | None) -> set[str]:
    """The password(s) a database URL carries, as written and decoded."""
    if not url:
        return set()
    from sqlalchemy.engine import make_url

    found: set[str] = set()
    try:
        parsed = make_url(url)
    except Exception:
        parsed = None
    if parsed is not None:
        if parsed.password:
            found.add(str(parsed.password))
        for key, value in parsed.query.items():
            if _SECRET_PARAMS.match(f"?{key}="):
                found.update([value] if isinstance(value, str) else value)
        # a password equal to the user, host or database name cannot be told apart from them
        # in a message (and is no secret from anyone who sees them): masked in URLs only
        found -= {parsed.username, parsed.host, parsed.database}
    else:
        _, sep, rest = url.partition("://")
        userinfo = (rest if sep else url).rpartition("@")[0]
        if ":" in userinfo:
            found.add(userinfo.split(":", 1)[1])
    # the raw (percent-encoded) and the decoded spelling can both reach a message
    return {form for secret in found if secret for form in (secret, unquote(secret), quote(secret, safe=""))}


def register_url(url: str | None) -> None:
    """Mask this URL's password in every later log record (see :func:`install`)."""
    secrets = url_secrets(url)
    if secrets:
        with _lock:
            _secrets.update(secrets)
        install()


def redact(text: str) -> str:
    """``text`` with every registered password and every URL password replaced by ``***``."""
    if not text:
        return text
    text = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    text = _SECRET_PARAMS.sub(lambda m: m.group(1) + MASK, text)
    for secret in sorted(_secrets, key=len, reverse=True):
        if len(secret) >= MIN_FREE_SECRET:
            text = text.replace(secret, MASK)
    return text


def install() -> None:
    """Redact every log record at creation, so no handler or collector sees a password."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call: leave it to the handler's own error report
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            # the handler's formatter reuses exc_text instead of formatting the traceback again
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    logging.setLogRecordFactory(factory)
