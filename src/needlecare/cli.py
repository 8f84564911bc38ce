"""The ``needlecare`` command.

The clinical engines run as filters (one JSON document in, one out) so that other programs and
shell scripts can use them without the web application. Subcommands live in one table, the
web application's beside them: ``serve`` (gunicorn), ``backup``, and ``migrate``, ``demo``,
``createadmin`` and ``manage …``, which hand their arguments unparsed to Django's management
commands (and exit with their status).

Exit status: 0 on success, 2 when the input (or a protocol file) is invalid, with one line per
problem on standard error. Engines are imported lazily, so ``needlecare --version`` and
``needlecare schema`` stay fast and a broken engine never stops the others from running.
"""

from __future__ import annotations

import argparse
import importlib
import ipaddress
import json
import os
import sys
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ValidationError

PROG = "needlecare"
EXIT_OK = 0
EXIT_INVALID = 2


class InvalidInput(Exception):
    """Anything the user can fix: bad input, unreadable file, invalid protocol."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


# --- engines ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Engine:
    command: str
    help: str
    input_name: str  # name for ``needlecare schema``
    input_model: str  # "module:attribute", imported on use
    output_name: str
    output_model: str
    run: str


_C = "needlecare.clinical"
ENGINES = (
    Engine("screen", "screen an intake for candidacy", "intake", f"{_C}.screening:Intake",
           "screening", f"{_C}.screening:ScreeningResult", f"{_C}.screening:screen"),
    Engine("plan", "plan a course of treatment", "plan-request", f"{_C}.planning:PlanRequest",
           "plan", f"{_C}.planning:TreatmentPlan", f"{_C}.planning:plan_request"),
    Engine("aftercare", "lay out day-by-day aftercare for a session", "session",
           f"{_C}.session:SessionFacts", "aftercare", f"{_C}.aftercare:AftercarePlan",
           f"{_C}.aftercare:aftercare"),
    Engine("triage", "triage a patient's check-in", "checkin", f"{_C}.triage:CheckIn",
           "triage", f"{_C}.triage:TriageResult", f"{_C}.triage:triage"),
)
SCHEMAS = {e.input_name: e.input_model for e in ENGINES} | {
    e.output_name: e.output_model for e in ENGINES}


def _attr(ref: str) -> Any:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def _model(ref: str) -> type[BaseModel]:
    model = _attr(ref)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{ref} is not a pydantic model")
    return model


# --- reading input and explaining what is wrong with it -----------------------------------

def _read_json(path: str, stdin: TextIO) -> tuple[str, Any]:
    label = "<stdin>" if path == "-" else path
    try:
        text = stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput([f"cannot read {label}: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise InvalidInput([f"cannot read {label}: not UTF-8 text ({exc.reason})"]) from None
    try:
        return label, json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput([f"{label} is not valid JSON: line {exc.lineno} column {exc.colno}: "
                            f"{exc.msg}"]) from None


def _kind_of(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "true/false",
            type(None): "null"}.get(type(value), "a number")


def _parse(model: type[BaseModel], label: str, doc: Any) -> BaseModel:
    expected = model.model_fields["schema_"].default
    if not isinstance(doc, dict):
        raise InvalidInput([f"invalid input in {label}: expected a JSON object "
                            f"({expected}), got {_kind_of(doc)}"])
    if "schema" in doc and doc["schema"] != expected:
        hint = next((f" (use `{PROG} {e.command}`)" for e in ENGINES
                     if doc["schema"] == f"needlecare.{e.input_name}/1"), "")
        raise InvalidInput([f"invalid input in {label}: schema: this is a "
                            f"{json.dumps(doc['schema'])} document, expected \"{expected}\"{hint}"])
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise InvalidInput([f"invalid input in {label}: {line}"
                            for line in explain(model, exc)]) from None


def explain(model: type[BaseModel], exc: ValidationError) -> list[str]:
    """One plain line per problem: the dotted field path, then what is wrong.

    Pydantic reports a union failure once per member, under a location that names the member
    type; those are folded into one line so that the user reads the field, not the internals.
    """
    lines: list[str] = []
    unions: dict[str, tuple[int, list[str], Any]] = {}
    shaped: set[str] = set()
    for err in exc.errors():
        parts, union_at = _readable_path(model, err["loc"])
        path = ".".join(parts)
        if union_at is None:
            message = _message(err)
            lines.append(f"{path}: {message}" if path else message)
        elif len(parts) > union_at:
            # An error below a union member means the input had that member's shape: report
            # it, and drop the members the input plainly was not.
            shaped.add(".".join(parts[:union_at]))
            lines.append(f"{path}: {_message(err)}")
        else:
            if path not in unions:
                lines.append("")  # keeps the union's place among the other problems
                unions[path] = (len(lines) - 1, [], err.get("input"))
            unions[path][1].append(
                _message(err, show_input=False).removeprefix("input should be "))
    for path, (at, options, value) in unions.items():
        if path not in shaped:
            lines[at] = f"{path}: expected {', or '.join(dict.fromkeys(options))}{_got(value)}"
    return [line for line in lines if line]


def _message(err: Any, show_input: bool = True) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        text = "input should be an object"
    elif kind == "bool_type":
        text = "input should be true or false"
    else:
        text = str(err["msg"]).removeprefix("Value error, ")
        if text.startswith("Input should"):
            text = "i" + text[1:]
    if show_input and kind != "value_error":
        text += _got(err.get("input"))
    return text


def _got(value: Any) -> str:
    if isinstance(value, str | int | float | bool) or value is None:
        return f" (got {json.dumps(value, ensure_ascii=False)})"
    return f" (got {_kind_of(value)})"


def _readable_path(model: type[BaseModel], loc: Sequence[int | str]
                   ) -> tuple[list[str], int | None]:
    """The field path without pydantic's union-member tags and "[key]" markers, and how many
    of its parts come before the first union (None if the location crosses no union)."""
    parts: list[str] = []
    union_at: int | None = None
    tp: Any = model
    for seg in loc:
        tp = _bare(tp)
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            members = [m for m in typing.get_args(tp) if m is not type(None)]
            if len(members) > 1:  # X | None is "nullable" in pydantic and has no tag
                union_at = len(parts) if union_at is None else union_at
                tp = next((m for m in members if getattr(m, "__name__", None) == seg), Any)
                continue
            tp = _bare(members[0])
        if seg == "[key]":
            continue
        parts.append(str(seg))
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = next((f for name, f in tp.model_fields.items()
                          if (f.alias or name) == seg), None)
            tp = field.annotation if field is not None else Any
        elif typing.get_origin(tp) in (list, tuple, set, frozenset, dict):
            tp = (typing.get_args(tp) or (Any,))[-1]
        else:
            tp = Any
    return parts, union_at


def _bare(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


# --- protocol -------------------------------------------------------------------------------

def _protocol(args: argparse.Namespace) -> Any:
    """The protocol the options name, or None for the engines' shipped default."""
    # Imported when the command runs: the clinical commands stay fast and work without
    # Django set up (see the module docstring).
    from needlecare.clinical.protocol.loader import ProtocolError, load_protocol

    if args.protocol is None and args.overrides is None:
        return None
    try:
        return load_protocol(args.protocol, args.overrides)
    except ProtocolError as exc:
        raise InvalidInput(["invalid protocol:", *(f"  {p}" for p in exc.problems)]) from None


def _default_protocol(args: argparse.Namespace) -> Any:
    # Imported when the command runs: the clinical commands stay fast and work without
    # Django set up (see the module docstring).
    from needlecare.clinical.protocol.loader import default_protocol

    return _protocol(args) or default_protocol()


# --- commands -------------------------------------------------------------------------------

def _write_json(document: BaseModel, out: TextIO) -> None:
    data = document.model_dump(mode="json", by_alias=True)
    out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _run_engine(engine: Engine) -> Callable[[argparse.Namespace, TextIO, TextIO], int]:
    def run(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
        protocol = _protocol(args)  # before reading: a bad protocol is reported first
        label, doc = _read_json(args.file, stdin)
        document = _parse(_model(engine.input_model), label, doc)
        try:
            result = _attr(engine.run)(document, protocol)
        except ValidationError:
            raise  # an engine that builds an invalid output has a bug: show it in full
        except ValueError as exc:
            raise InvalidInput([f"cannot evaluate {label}: {exc}"]) from None
        _write_json(result, out)
        return EXIT_OK

    return run


def _schema(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    model = _model(SCHEMAS[args.name])
    is_output = args.name not in {e.input_name for e in ENGINES}
    schema = model.model_json_schema(by_alias=True,
                                     mode="serialization" if is_output else "validation")
    out.write(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    return EXIT_OK


def _rules_doc(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    # Imported when the command runs: the clinical commands stay fast and work without
    # Django set up (see the module docstring).
    from needlecare.clinical.rules_doc import render

    out.write(render(_default_protocol(args)))
    return EXIT_OK


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable[[argparse.Namespace, TextIO, TextIO], int]
    configure: Callable[[argparse.ArgumentParser], None] = lambda parser: None
    # Every argument after the command name goes, in order and unparsed, to Django's
    # management command (so `needlecare createadmin --help` shows Django's help).
    passthrough: bool = False
    # Creates or writes live data (the database, stored files, backups): runs under
    # LIVE_DATA_UMASK.
    live_data: bool = False


# --- the web application ------------------------------------------------------------------

DEFAULT_BIND = "127.0.0.1:8000"


def _django(argv: Sequence[str]) -> int:
    """Run one of Django's management commands; its exit status is ours."""
    # Imported when the command runs: the clinical commands stay fast and work without
    # Django set up (see the module docstring).
    from needlecare.manage import main as manage

    try:
        manage(list(argv))
    except SystemExit as exc:  # CommandError and argparse errors exit 1 or 2
        return exc.code if isinstance(exc.code, int) else 1
    return EXIT_OK


def _management(name: str | None) -> Callable[[argparse.Namespace, TextIO, TextIO], int]:
    def run(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
        return _django([name, *args.args] if name else args.args)

    return run


def _takes_rest(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs=argparse.REMAINDER, metavar="...",
                        help="passed on to Django's management command")


def _production() -> bool:
    return os.environ.get("NEEDLECARE_ENV", "development") == "production"


def _debug() -> bool:
    """DEBUG as the settings read it: on by default, except in production."""
    value = os.environ.get("NEEDLECARE_DEBUG")
    if value is None:
        return not _production()
    return value.strip().lower() in {"1", "true", "yes", "on"}


#: Files the web commands create (the database, stored documents, backups) are not readable by
#: other users of the machine: owner read-write, group read, others nothing.
LIVE_DATA_UMASK = 0o027


def is_loopback(bind: str) -> bool:
    """Whether gunicorn's ``--bind`` address is reachable from this machine only."""
    if bind.startswith(("unix:", "fd://")):
        return True
    host = bind.rsplit(":", 1)[0] if ":" in bind and not bind.endswith("]") else bind
    host = host.removeprefix("[").removesuffix("]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def gunicorn_argv(bind: str, workers: int, timeout: int) -> list[str]:
    argv = [sys.executable, "-m", "gunicorn", "needlecare.wsgi:application",
            "--bind", bind, "--workers", str(workers), "--timeout", str(timeout),
            # The proxies whose X-Forwarded-* headers count (nginx on the same host).
            "--forwarded-allow-ips", os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
            # Personal-link tokens are in request lines: its access and error logs redact them.
            "--logger-class", "needlecare.web.redaction.GunicornLogger"]
    if _gunicorn_has("control_socket_disable"):
        # gunicorn 25.1+ opens a control socket at one fixed path per user: a second server
        # (or a read-only home under systemd) would trip over it, and nothing here uses it.
        argv.append("--no-control-socket")
    return argv


def _gunicorn_has(setting: str) -> bool:
    # Only `serve` needs gunicorn; importing it for every command would slow them all.
    from gunicorn.config import KNOWN_SETTINGS  # type: ignore[import-untyped]

    return any(s.name == setting for s in KNOWN_SETTINGS)


def _serve(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    if not _production() and not is_loopback(args.bind):
        # A development server has DEBUG on and a laptop's settings: never on a network.
        raise InvalidInput([
            f"serve: refusing to listen on {args.bind} outside production; development "
            "serves on loopback only (127.0.0.1, ::1, localhost or a unix socket). "
            "Set NEEDLECARE_ENV=production to serve on a network, behind a proxy."])
    if not _debug():
        # Without DEBUG the pages name static files by their content's hash, from the
        # manifest collectstatic writes (settings.STORAGES).
        code = _django(["collectstatic", "--noinput", "--verbosity", "0"])
        if code != EXIT_OK:
            return code
    host = args.bind if "://" in args.bind else f"http://{args.bind}"
    if not args.bind.startswith("unix:"):
        out.write(f"Needlecare on {host}/ ({args.workers} workers; Ctrl-C stops it)\n")
        out.flush()
    argv = gunicorn_argv(args.bind, args.workers, args.timeout)
    os.execv(argv[0], argv)  # gunicorn takes over the process: signals reach it directly


def _serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bind", default=DEFAULT_BIND, metavar="ADDRESS",
                        help=f"HOST:PORT or unix:PATH to listen on (default {DEFAULT_BIND})")
    parser.add_argument("--workers", type=int, default=2, metavar="N",
                        help="worker processes (default 2; about 2 per CPU core)")
    parser.add_argument("--timeout", type=int, default=30, metavar="SECONDS",
                        help="restart a worker stuck on one request this long (default 30)")


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "needlecare.settings")
    # Django is set up for the commands that need it only.
    import django

    django.setup()


def _backup(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    _setup_django()
    from needlecare.web.backup import BackupError, backup, verify  # needs the set-up above

    try:
        if args.verify:
            checked = verify(Path(args.verify))
            if not checked.ok:
                raise InvalidInput([f"backup: {args.verify} is damaged:",
                                    *(f"  {p}" for p in checked.problems)])
            out.write(f"{args.verify}: ok ({checked.manifest['engine']} database, "
                      f"{len(checked.files)} files, every SHA-256 matches)\n")
            return EXIT_OK
        path = backup(Path(args.directory) if args.directory else None)
    except BackupError as exc:
        raise InvalidInput([f"backup: {exc}"]) from None
    out.write(f"{path}\n")
    return EXIT_OK


def _backup_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--directory", metavar="DIR",
                        help="where to write the archive (default: var/backups)")
    parser.add_argument("--verify", metavar="ARCHIVE",
                        help="check an archive's hashes against its manifest; restore nothing")


def _restore(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    _setup_django()
    from needlecare.web.backup import BackupError, restore  # needs the set-up above

    try:
        done = restore(Path(args.archive))
    except BackupError as exc:
        raise InvalidInput([f"restore: {exc}"]) from None
    out.write(f"Restored {done.rows} rows in {done.tables} tables ({done.engine}) and "
              f"{done.files} files; every SHA-256 and row count matches the archive.\n"
              "Run `needlecare migrate` if the archive comes from an older version.\n")
    return EXIT_OK


def _restore_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("archive", metavar="ARCHIVE", help="a `needlecare backup` archive")


def _takes_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="JSON input document; - reads stdin")


def _takes_schema_name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", choices=list(SCHEMAS),
                        help=f"one of: {', '.join(SCHEMAS)}")


COMMANDS: tuple[Command, ...] = (
    *(Command(e.command, e.help, _run_engine(e), _takes_file) for e in ENGINES),
    Command("schema", "print the JSON Schema of an input or output document", _schema,
            _takes_schema_name),
    Command("rules-doc", "print the protocol's rules as Markdown for clinical review",
            _rules_doc),
    Command("serve", "serve the web application with gunicorn (collectstatic first when "
            "DEBUG is off)", _serve, _serve_options, live_data=True),
    Command("migrate", "create or update the database tables", _management("migrate"),
            _takes_rest, passthrough=True),
    Command("demo", "load the synthetic demo clinic (--reset rebuilds it)",
            _management("demo"), _takes_rest, passthrough=True),
    Command("createadmin", "create a clinic owner (and the clinic)",
            _management("createadmin"), _takes_rest, passthrough=True),
    Command("backup", "archive the database and every stored file to var/backups "
            "(--verify ARCHIVE checks one)", _backup, _backup_options, live_data=True),
    Command("restore", "restore an archive into an empty database and file storage",
            _restore, _restore_options, live_data=True),
    Command("worker", "send due messages from the outbox and check waiting photos (--once: "
            "what is due now, then exit)", _management("worker"), _takes_rest,
            passthrough=True),
    Command("photos-purge", "delete photos past the clinic's record-keeping period "
            "(--dry-run counts them)", _management("photos_purge"), _takes_rest,
            passthrough=True),
    Command("audit", "check the audit trail's hash chains (verify: exit 2 at the first broken "
            "row) or seal the rows waiting now (seal)", _management("audit"), _takes_rest,
            passthrough=True),
    Command("manage", "run any Django management command", _management(None), _takes_rest,
            passthrough=True),
)


def _version() -> str:
    # Only `--version` reads the installed metadata.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("needlecare")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _protocol_options(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument("--protocol", metavar="FILE", default=default,
                        help="protocol file (default: the shipped protocol)")
    parser.add_argument("--overrides", metavar="FILE", default=default,
                        help="clinic override file merged into the protocol")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Needlecare: clinical engines for microneedling clinics.",
        epilog=f"Exit status: {EXIT_OK} on success, {EXIT_INVALID} on invalid input.")
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    _protocol_options(parser, None)
    # The options are accepted after the subcommand too; SUPPRESS keeps a subcommand's unset
    # option from overwriting one given before it.
    common = argparse.ArgumentParser(add_help=False)
    _protocol_options(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.configure(sub.add_parser(command.name, help=command.help, parents=[common],
                                         description=command.help))
    return parser


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough = next((c for c in COMMANDS if c.passthrough and argv and argv[0] == c.name),
                       None)
    if passthrough is not None:
        os.umask(LIVE_DATA_UMASK)  # every passthrough command is one of the web application's
        return passthrough.run(argparse.Namespace(command=argv[0], args=argv[1:]), sys.stdout,
                               stdin or sys.stdin)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors (argparse exits 2)
        return exc.code if isinstance(exc.code, int) else EXIT_INVALID
    command = next(c for c in COMMANDS if c.name == args.command)
    if command.live_data:
        os.umask(LIVE_DATA_UMASK)
    try:
        return command.run(args, sys.stdout, stdin or sys.stdin)
    except InvalidInput as exc:
        for line in _prefixed(exc.problems):
            print(line, file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:
        # The reader went away (`needlecare … | head`); Python's own exit-time flush would
        # then print a traceback, so point stdout at /dev/null first (the Python docs' recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _prefixed(problems: list[str]) -> Iterator[str]:
    for problem in problems:
        yield problem if problem.startswith("  ") else f"{PROG}: {problem}"
