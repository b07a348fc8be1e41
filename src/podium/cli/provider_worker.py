"""The provider worker process's entry (issue 20): `podium.llm.worker_backend` starts a Python
running `main`, which serves the parent's model calls (`podium.llm.worker`).

Garbage-collector policy is a process entry's to set, so it is set here: collection is off
while the worker imports podium's modules and litellm (an import makes objects and frees next
to none; collecting during it cost a third of the worker's start, 2.5-3.2 s against 1.7-1.9 s),
then what was imported is frozen (`gc.freeze`: the collections while calls stream no longer
walk litellm's modules) and collection is on again.
"""

from __future__ import annotations

import gc
import os
import socket
import sys


def main() -> None:
    if sys.argv[1:] == ["--stop"]:  # python -m podium.cli.provider_worker --stop
        from podium.llm.worker_share import stop

        pids = stop()
        for pid in pids:
            sys.stdout.write(f"stopping the shared provider worker {pid}\n")
        if not pids:
            sys.stdout.write("none runs\n")
        return
    gc.disable()
    environ = dict(os.environ)
    listener, path, idle_s = _shared_socket(sys.argv[1:])
    from podium.llm.worker_backend import serve_warm

    if listener is None:
        serve_warm(imported=collect_again)
    else:
        # The environment as started (litellm's import sets variables of its own): the one a
        # connecting process's provider variables are compared with.
        serve_warm(imported=collect_again, shared=(listener, path, idle_s, environ))


def _shared_socket(argv: list[str]) -> tuple[socket.socket | None, str, float]:
    """`--socket PATH --idle S`: the shared worker (`podium.llm.worker_share`), its socket
    bound before anything else is imported (a process connecting waits in its backlog)."""
    if "--socket" not in argv:
        return None, "", 0.0
    path = argv[argv.index("--socket") + 1]
    idle_s = float(argv[argv.index("--idle") + 1]) if "--idle" in argv else 600.0
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o077)  # the socket file is this user's only (in a 0700 folder too)
    try:
        sock.bind(path)
        sock.listen(64)
    except OSError:
        raise SystemExit(0) from None  # another worker has it
    finally:
        os.umask(old)
    return sock, path, idle_s


def collect_again() -> None:
    """litellm is in (or failed to import): freeze what was imported, collect again."""
    gc.freeze()
    gc.enable()


if __name__ == "__main__":
    main()
