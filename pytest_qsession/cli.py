"""`pytest-qsession serve`: the fake platform as an HTTP server for other processes.

The first line on stdout says where it listens (`pytest-qsession serving on http://HOST:PORT`);
the environment a client needs follows, one `KEY=VALUE` per line (and goes to `--env-file`).
SIGINT or SIGTERM stops it cleanly.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence

import pytest

from .api.server import BANNER, QSessionServer, environment
from .hosted import HostedPlatform
from .options import Options, OptionError
from .plugin import _parse_pair


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pytest-qsession", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a fake IBM Quantum Platform over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    serve.add_argument("--env-file", metavar="PATH", help="write the client environment here")
    serve.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a fake_runtime marker option, e.g. job_duration=30 or backends=['ibm_fez'] (repeatable)",
    )
    serve.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="virtual seconds per real second (default 1; 0 stands time still)",
    )
    serve.add_argument(
        "--instant",
        action="store_true",
        help="a polled job finishes at once: virtual time jumps to its end",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:  # NAME=VALUE read exactly as --fake-runtime-option reads it
        options = Options.build(**dict(_parse_pair(pair) for pair in args.option))
    except (OptionError, pytest.UsageError) as error:
        parser.error(f"--option: {error}")
    if args.time_scale < 0:
        parser.error(f"--time-scale must be >= 0, got {args.time_scale:g}")
    hosted = HostedPlatform(options, time_scale=args.time_scale, instant=args.instant)
    try:
        server = QSessionServer(hosted, (args.host, args.port))
    except OSError as error:
        parser.error(f"cannot listen on {args.host}:{args.port}: {error.strerror}")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # before the banner: a caller may signal at once
        signal.signal(signum, lambda *_: stop.set())
    env = environment(server.url, hosted.runtime.token, hosted.runtime.instance)
    lines = [f"{key}={value}" for key, value in env.items()]
    if args.env_file:
        with open(args.env_file, "w", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")
    print(BANNER + server.url, flush=True)
    print("\n".join(lines), flush=True)
    _serve_until(stop, server)
    return 0


def _serve_until(stop: threading.Event, server: QSessionServer) -> None:
    thread = server.serve_in_thread()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        print("pytest-qsession stopped", flush=True)
