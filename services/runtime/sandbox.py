"""Run an untrusted-input parser in a child process with a memory cap and a deadline.

A hostile spreadsheet can make a native parser abort the whole process (python-calamine on a 2 KB
xlsx that declares a cell at XFD1048576) or eat all memory (openpyxl on the same file). The child
is forked from a forkserver that has the parsing libraries preloaded, so each run costs milliseconds.
"""
from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from services.errors import AppError, Invalid
from services.runtime.storage import is_storage_full

logger = logging.getLogger(__name__)
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["services.ingest.reader", "services.runtime.sandbox"])


@dataclass(frozen=True)
class SandboxLimits:
    """Address-space cap for the child and how long to wait for it."""

    memory_bytes: int = 3 * 1024**3
    timeout_seconds: float = 120.0


def start_parser_server() -> None:
    """Start the forkserver now (it imports pandas and pyarrow once), so the first upload does not pay for it."""
    multiprocessing.forkserver.ensure_running()


def run_sandboxed(function: Callable, limits: SandboxLimits, *args) -> object:
    """function(*args) in a child; its AppErrors come back as themselves, a crash or timeout as a 422."""
    receiver, sender = _context.Pipe(duplex=False)
    child = _context.Process(target=_child_main, args=(sender, limits.memory_bytes, function, args), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(limits.timeout_seconds):
            child.kill()
            raise Invalid(f"parsing the file took longer than {limits.timeout_seconds:.0f} s and was stopped")
        try:
            outcome = receiver.recv()
        except EOFError:
            child.join(5)
            logger.warning("parser child died with exit code %s", child.exitcode)
            raise Invalid(
                "the file could not be parsed safely: the parser crashed or ran out of memory "
                f"(exit code {child.exitcode}); the file may be damaged or declare an enormous sheet"
            ) from None
    finally:
        receiver.close()
        child.join(5)
        if child.is_alive():
            child.kill()
    return _unwrap(outcome)


def _child_main(sender, memory_bytes: int, function: Callable, args: tuple) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    os.environ["RUST_BACKTRACE"] = "0"  # a native parser's abort should not print pages of stack
    try:
        outcome = ("ok", function(*args))
    except AppError as exc:
        outcome = ("app_error", type(exc).__name__, exc.status, exc.detail, exc.errors)
    except MemoryError:
        outcome = ("app_error", "Invalid", 422, "the file needs more memory to parse than this server allows", None)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which logs it
        outcome = (("app_error", "StorageFull", 507, "storage is full: the parsed copy could not be written", None)
                   if is_storage_full(exc) else ("crash", traceback.format_exc(limit=20)))
    sender.send(outcome)
    sender.close()


def _unwrap(outcome: tuple) -> object:
    if outcome[0] == "ok":
        return outcome[1]
    if outcome[0] == "app_error":
        _kind, name, status, detail, errors = outcome
        error_class = next((cls for cls in _app_error_classes() if cls.__name__ == name), Invalid)
        error = error_class.__new__(error_class)  # named errors build their detail from ids: pass it as it is
        AppError.__init__(error, detail, errors=errors)
        error.status = status
        raise error
    logger.error("parser failed unexpectedly:\n%s", outcome[1])
    raise Invalid("the file could not be parsed: it is damaged or in a layout this server does not understand")


def _app_error_classes() -> list[type[AppError]]:
    classes, pending = [], [AppError]
    while pending:
        cls = pending.pop()
        classes.append(cls)
        pending.extend(cls.__subclasses__())
    return classes
