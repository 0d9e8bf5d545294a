"""What every command shares: verbosity, the --db option, opening an archive, name checks, output."""

from __future__ import annotations

import csv
import functools
import json
import logging
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from newsarchive import redact
from newsarchive.errors import NewsarchiveError

F = TypeVar("F", bound=Callable[..., Any])

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: the one handler the CLI puts on the root logger (replaced, never doubled, on a second setup)
_HANDLER_NAME = "newsarchive-cli"
#: -v/-q given before the command name (``newsarchive -v search ...``)
_GROUP_SHIFT = "newsarchive.verbosity"


def setup_logging(level: int) -> None:
    """One stderr handler on the root logger at ``level``, passwords masked in every record."""
    redact.install()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (click's test runner swaps it per call)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def remove_cli_logging() -> None:
    """Drop the CLI's handler (the crawl hands logging to Scrapy's own, so no line is printed twice)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)


def log_level(verbose: int, quiet: int, explicit: str | None, default: int = logging.WARNING) -> int:
    """The level -v/-q (each one step from ``default``) or an explicit --log-level gives."""
    if explicit:
        return int(logging.getLevelName(explicit.upper()))
    return min(logging.CRITICAL, max(logging.DEBUG, default + 10 * (quiet - verbose) + _group_shift()))


def _group_shift() -> int:
    ctx = click.get_current_context(silent=True)
    # click shares one meta dict between a context and its children
    return int(ctx.meta.get(_GROUP_SHIFT, 0)) if ctx is not None else 0


def group_verbosity(verbose: int, quiet: int) -> None:
    """Remember -v/-q given to the group; each command applies them with its own."""
    click.get_current_context().meta[_GROUP_SHIFT] = 10 * (quiet - verbose)


def _verbosity_params() -> list[click.Parameter]:
    return [
        click.Option(["-v", "--verbose"], count=True, help="More log output on stderr (-vv for debug)."),
        click.Option(["-q", "--quiet"], count=True, help="Less log output on stderr (-qq: only critical)."),
        click.Option(["--log-level", "log_level_name"], type=click.Choice(LEVELS, case_sensitive=False),
                     envvar="NEWSARCHIVE_LOG_LEVEL", show_envvar=True,
                     help="Log level by name (an alias of -v/-q that overrides them)."),
    ]


def _with_verbosity(f: Callable[..., Any], default: Callable[[], int] | None, configure: bool) -> Any:
    @functools.wraps(f)
    def wrapper(*args: Any, verbose: int = 0, quiet: int = 0, log_level_name: str | None = None,
                **kwargs: Any) -> Any:
        base = default() if default is not None else logging.WARNING
        level = log_level(verbose, quiet, log_level_name, base)
        if configure:
            setup_logging(level)
        else:
            asked = bool(log_level_name or verbose or quiet or _group_shift())
            kwargs["log_level"] = logging.getLevelName(level) if asked else None
        return f(*args, **kwargs)

    return wrapper


def verbosity_options(*, default: Callable[[], int] | None = None, configure: bool = True) -> Any:
    """-v/--verbose, -q/--quiet and --log-level on a command (put it right under @click.command).

    With ``configure`` the command's logging is set up before it runs. Without, the wrapped
    function gets ``log_level``: the level name the options ask for, or None when none was
    given (the crawl hands it to Scrapy, whose own default depends on the terminal).
    """

    def decorate(f: F) -> F:
        wrapper = _with_verbosity(f, default, configure)
        # click lists options in reverse order of their decorators
        wrapper.__click_params__ = [*getattr(f, "__click_params__", []), *reversed(_verbosity_params())]
        return wrapper  # type: ignore[no-any-return]

    return decorate


def add_verbosity(command: click.Command) -> None:
    """Give ``command`` (each command of a group) -v/-q/--log-level unless it declares them itself."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_verbosity(sub)
        return
    if command.callback is None or any(p.name == "verbose" for p in command.params):
        return
    command.params.extend(_verbosity_params())
    command.callback = _with_verbosity(command.callback, None, True)


# -- the archive --------------------------------------------------------------------------
def _check_db(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from sqlalchemy.engine import make_url

    try:
        make_url(value)
    except Exception:
        raise click.BadParameter(
            f"{redact.mask_url(value)!r} is not a database URL "
            "(e.g. sqlite:///data/archive.sqlite or postgresql+psycopg://user:pw@host/db)"
        ) from None
    redact.register_url(value)
    return value


db_option = click.option(
    "--db", envvar="NEWSARCHIVE_DB", show_envvar=True, callback=_check_db,
    help="SQLAlchemy URL of the archive [data/archive.sqlite].",
)


def open_archive(db: str | None, *, read_only: bool = False) -> Any:
    """The Archive at ``db``; ``read_only`` commands refuse one that does not exist yet (exit 1)."""
    from newsarchive.config import default_db_url
    from newsarchive.storage import Archive
    from newsarchive.storage import engine as engines

    url = db or default_db_url()
    redact.register_url(url)
    try:
        if read_only:
            _require_existing(url)
        return Archive(url)
    except NewsarchiveError as exc:
        raise click.ClickException(one_line(str(exc))) from None
    except Exception as exc:  # a driver error while connecting: one line, password masked
        reason = getattr(exc, "orig", None) or exc
        message = f"cannot open the archive at {engines.describe(url)}: {reason}"
        raise click.ClickException(one_line(message)) from None


def one_line(message: str) -> str:
    """``message`` on one line (drivers add hints on lines of their own), passwords masked."""
    return redact.redact(" ".join(message.split()))


def _require_existing(url: str) -> None:
    from sqlalchemy.engine import make_url

    from newsarchive.errors import StorageError
    from newsarchive.storage import engine as engines

    where = engines.describe(url)
    hint = "check --db or NEWSARCHIVE_DB; a crawl or `newsarchive db upgrade` creates one"
    try:
        parsed = make_url(url)
    except Exception:
        raise StorageError(f"{where!r} is not a database URL") from None
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database in ("", ":memory:"):
        raise StorageError(f"no archive at {where}: an in-memory database is always empty")
    if parsed.get_backend_name() == "sqlite" and not database.startswith("file:"):
        if not Path(database).expanduser().is_file():
            # opening it would create an empty archive (and its folders) and answer "0 results"
            raise StorageError(f"no archive at {where} ({hint})")
        revision = _sqlite_revision(Path(database).expanduser(), where)
    else:
        revision = _revision(url, where)
    if revision is None:
        raise StorageError(f"no archive at {where}: the database holds no newsarchive schema ({hint})")


def _sqlite_revision(path: Path, where: str) -> str | None:
    import sqlite3

    from newsarchive.errors import StorageError

    # read-only: the archive engine's connect pragmas would turn an empty file into a database
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open the archive at {where}: {exc}") from None
    try:
        found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")
        if found.fetchone() is None:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None
    except sqlite3.Error as exc:  # not a database at all, or locked past the timeout
        raise StorageError(f"cannot read the archive at {where}: {exc}") from None
    finally:
        conn.close()


def _revision(url: str, where: str) -> str | None:
    from newsarchive.errors import StorageError
    from newsarchive.storage import engine as engines

    engine = engines.create_engine(url)
    try:
        return engines.current_revision(engine)
    except Exception as exc:
        reason = getattr(exc, "orig", None) or exc
        raise StorageError(redact.redact(f"cannot open the archive at {where}: {reason}")) from None
    finally:
        engine.dispose()


def check_names(archive: Any, *, source: str | None = None, topic: str | None = None,
                language: str | None = None) -> None:
    """Raise a one-line ClickException for a source, topic or language the archive does not know."""
    import difflib

    import sqlalchemy as sa

    from newsarchive.article import normalise_text
    from newsarchive.storage.models import ArticleVersion, CrawlRun, Source, Topic

    with archive.engine.connect() as conn:
        if source is not None:
            known = sorted(set(conn.execute(sa.select(Source.key)).scalars())
                           | set(conn.execute(sa.select(CrawlRun.source).distinct()).scalars()))
            if source not in known:
                raise click.ClickException(
                    f"unknown source {source!r}: this archive holds {_listing(known) or 'no sources yet'}")
        if topic is not None:
            key = normalise_text(topic)
            if conn.execute(sa.select(Topic.id).where(Topic.key == key)).first() is None:
                names = list(conn.execute(sa.select(Topic.name).order_by(Topic.name)).scalars())
                if len(names) > 30:
                    close = difflib.get_close_matches(topic, names, n=8, cutoff=0.5)
                    shown = (f"{len(names)} topics, the closest: {', '.join(close)}" if close
                             else f"{len(names)} topics, none close to it")
                else:
                    shown = _listing(names) or "no topics yet"
                raise click.ClickException(f"unknown topic {topic!r}: this archive holds {shown}")
        if language is not None:
            lang = sa.func.lower(ArticleVersion.language)
            wanted = language.lower()
            match = sa.or_(lang == wanted, lang.startswith(wanted + "-", autoescape=True))
            # the first match ends the scan; the full list is read only to explain a miss
            if conn.execute(sa.select(ArticleVersion.id).where(match).limit(1)).first() is None:
                langs = sorted({v for v in conn.execute(sa.select(ArticleVersion.language).distinct())
                                .scalars() if v})
                raise click.ClickException(
                    f"unknown language {language!r}: this archive holds {_listing(langs) or 'none yet'}")


def _listing(names: Sequence[str]) -> str:
    return ", ".join(names)


def check_since_until(since: Any, until: Any) -> None:
    """--since after --until is a usage error (it would select nothing)."""
    if since is not None and until is not None and since >= until:
        raise click.BadParameter("--since is later than --until", param_hint="'--since'/'--until'")


def check_writable_file(path: str, option: str) -> None:
    """Fail (exit 1, like export's -o) unless ``path`` can be created or appended to; leaves nothing."""
    from newsarchive.storage.export import unwritable_reason

    problem = unwritable_reason(path)
    if problem:
        raise click.ClickException(f"{option}: cannot write {Path(path)}: {problem}")


# -- records on stdout --------------------------------------------------------------------
format_option = click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
    help="table for people; json (one array) or csv (header row) for programs.",
)


def write_records(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], fmt: str,
                  table: Callable[[list[Mapping[str, Any]]], None]) -> None:
    """Print ``rows`` as JSON, CSV (list cells as JSON arrays) or with the command's own ``table``."""
    rows = list(rows)
    if fmt == "json":
        json.dump([{c: row.get(c) for c in columns} for row in rows], sys.stdout, ensure_ascii=False,
                  indent=1, default=str)
        sys.stdout.write("\n")
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: _csv_cell(row.get(c)) for c in columns})
    else:
        table(rows)


def _csv_cell(value: Any) -> Any:
    # a list or mapping cell as JSON, which pandas and any JSON parser read back exactly
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


# -- errors ---------------------------------------------------------------------------------
class OneLineErrors:
    """A click command whose usage errors are one line (click prints usage and a hint above them)."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        base: Any = super()
        if not standalone_mode:
            return base.main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = base.main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            click.echo(f"Error: {exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        # without standalone mode click returns ctx.exit()'s code instead of exiting with it
        sys.exit(rv if isinstance(rv, int) and not isinstance(rv, bool) else 0)


class Group(OneLineErrors, click.Group):
    """The newsarchive group (one-line usage errors)."""


class Command(OneLineErrors, click.Command):
    """A command run on its own, e.g. ``python -m newsarchive.crawl`` (one-line usage errors)."""
