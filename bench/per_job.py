"""Per-job cost on the server side: CPU per job with 1 and 100 open sessions, memory per job.

Runs in about a minute on 2 cores and prints two tables:

1. CPU milliseconds (``time.process_time``, median) per sequential ``SamplerV2`` job through
   the real client, in one ``Session``, on ``ibm_fez`` and ``ibm_sherbrooke`` (every default
   backend configured, as in a test); with the client's session alone, and with 99 more open
   sessions on the same backend created through the platform: in all, in the fake's request
   handler alone, and against the client's floor (`CannedServer`), job by job beside the fake;
2. memory (``tracemalloc``) that 1,000 ended jobs keep alive on the platform: their records,
   params and results.

``--against DIR`` runs the same measurements on the package found in DIR (e.g. an exported
older commit) in alternation with this checkout, so before/after figures come from one run.

    python bench/per_job.py [--jobs 40] [--rounds 2] [--against DIR] [--json figures.json]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

warnings.filterwarnings("ignore")
logging.getLogger("qiskit_ibm_runtime").setLevel(logging.ERROR)

BACKENDS = ("ibm_fez", "ibm_sherbrooke")
SESSIONS = (1, 100)
RETAINED_JOBS = 1000
#: freezegun rewrites module globals bound to the clocks it patches; it does not look in lists.
_CPU = [time.process_time]


def bell():
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


class ServerSide:
    """Wraps the fake's request handler to add up the CPU time the server side spends."""

    def __init__(self, app) -> None:
        self.app, self.seconds = app, 0.0

    def __call__(self, request):
        start = _CPU[0]()
        try:
            return self.app(request)
        finally:
            self.seconds += _CPU[0]() - start


class CannedServer:
    """The client's floor: an instant server that replays the fake's answers to one job.

    Recorded from the fake while it answers one job (`record`), then replayed, answer by
    answer for each method and path, in the order they came (`__call__`): the same client, the
    same interception and clock, the same bytes back, and nothing computed.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.replies: dict[tuple[str, str], list] = {}
        self.served: dict[tuple[str, str], int] = {}

    def record(self, request):
        reply = self.app(request)
        self.replies.setdefault((request.method, request.path), []).append(reply)
        return reply

    def __call__(self, request):
        key = (request.method, request.path)
        replies, served = self.replies[key], self.served.get(key, 0)
        self.served[key] = served + 1
        return replies[served % len(replies)]


def job_cpu_ms(name: str, open_sessions: int, jobs: int) -> dict[str, list[float]]:
    """CPU ms of each of `jobs` sequential jobs in one client Session, beside other open ones:
    in all ("per_job"), in the fake's answers alone ("server"), and against the canned server
    ("floor"), the last alternating job by job with the fake."""
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime import SamplerV2, Session

    from pytest_qsession import FakeRuntime, Options

    fake = FakeRuntime(Options()).start()
    try:
        backend = fake.service().backend(name)
        circuit = generate_preset_pass_manager(optimization_level=1, backend=backend).run(bell())
        for _ in range(open_sessions - 1):
            fake.platform.create_session(mode="dedicated", backend=name, instance=None)
        server = ServerSide(fake._app)
        canned = CannedServer(server)
        with Session(backend=backend) as session:
            sampler = SamplerV2(mode=session)
            sampler.run([circuit]).result()  # warm: first-job caches are not per-job cost
            fake._app = canned.record
            sampler.run([circuit]).result()
            figures: dict[str, list[float]] = {"per_job": [], "server": [], "floor": []}
            for i in range(2 * jobs):
                against_floor = i % 2 == (i // 2) % 2  # floor, fake, fake, floor, ...
                fake._app = canned if against_floor else server
                start, server.seconds = _CPU[0](), 0.0
                sampler.run([circuit]).result()
                elapsed = (_CPU[0]() - start) * 1000
                if against_floor:
                    figures["floor"].append(elapsed)
                else:
                    figures["per_job"].append(elapsed)
                    figures["server"].append(server.seconds * 1000)
            fake._app = server.app
        return figures
    finally:
        fake.stop()


def retained_kib_per_1000(name: str) -> float:
    """KiB that 1,000 ended jobs keep alive: their records, params (as JSON parsed) and results."""
    from pytest_qsession import FakeRuntime, Options

    body = json.dumps(sampler_params(name))
    fake = FakeRuntime(Options(backends={name: 0})).start()
    try:
        platform = fake.platform
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(RETAINED_JOBS):  # each job's params parsed anew, as from a request body
            platform.submit(program_id="sampler", backend=name, params=json.loads(body))
            fake.clock.tick(60)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        assert all(job.results for job in fake.jobs), "a retained job did not complete"
        return (after - before) / 1024 * 1000 / RETAINED_JOBS
    finally:
        fake.stop()


def sampler_params(name: str) -> dict:
    """The params the real client sends for the Bell circuit on `name` (read off a fake job)."""
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime import SamplerV2

    from pytest_qsession import FakeRuntime, Options

    fake = FakeRuntime(Options(backends={name: 0})).start()
    try:
        backend = fake.service().backend(name)
        circuit = generate_preset_pass_manager(optimization_level=1, backend=backend).run(bell())
        SamplerV2(mode=backend).run([circuit]).result()
        return fake.jobs[0].params
    finally:
        fake.stop()


def load_as(alias: str, package_dir: Path):
    """Import `package_dir/pytest_qsession` under another name (its imports are relative)."""
    root = package_dir / "pytest_qsession"
    spec = importlib.util.spec_from_file_location(
        alias, root / "__init__.py", submodule_search_locations=[str(root)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[alias] = module
    spec.loader.exec_module(module)
    return module


def platform_side(against: Path, jobs: int) -> dict:
    """CPU ms per job on the platform alone (submit, run, complete: no client, no API), the two
    packages interleaved job by job in this one process, so the load hits both alike."""
    sys.path.insert(0, str(HERE))
    import pytest_qsession

    packages = {"before": load_as("qsession_before", against), "after": pytest_qsession}
    figures: dict = {label: {} for label in packages}
    for name in BACKENDS:
        body = json.dumps(sampler_params(name))
        for count in SESSIONS:
            runs = {}
            for label, package in packages.items():
                importlib.import_module(f"{package.__name__}.platform.service")
                runs[label] = _PlatformRun(package, name, count, body)
            samples = _interleaved(runs, jobs)
            for label in packages:
                figures[label][f"{name}/{count}"] = samples[label]
    return figures


def open_sessions_cost(name: str, jobs: int) -> dict[int, list[float]]:
    """CPU ms per job on the platform alone beside 0 and 99 other open sessions, the two
    platforms interleaved job by job in this process (the steadiest comparison of the two)."""
    import pytest_qsession

    body = json.dumps(sampler_params(name))
    return _interleaved({n: _PlatformRun(pytest_qsession, name, n, body) for n in SESSIONS}, jobs)


def _interleaved(runs: dict, jobs: int) -> dict:
    """CPU ms of each of `jobs` jobs per run, the runs taking turns job by job in alternating
    order; one job more first, uncounted, warms caches."""
    samples: dict = {key: [] for key in runs}
    for i in range(jobs + 1):
        for key in list(runs)[:: 1 if i % 2 else -1]:
            elapsed = runs[key].one_job()
            if i:
                samples[key].append(elapsed * 1000)
    return samples


class _PlatformRun:
    """A platform of one package version: `count` open sessions, jobs in the first of them."""

    def __init__(self, package, name: str, count: int, body: str) -> None:
        self.now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
        options = package.options.Options.build(job_duration=1.0)
        self.platform = package.platform.service.Platform(options, now=lambda: self.now)
        sessions = [
            self.platform.create_session(mode="dedicated", backend=name, instance=None)
            for _ in range(count)
        ]
        self.session_id, self.name, self.body = sessions[0].session_id, name, body

    def one_job(self) -> float:
        start = _CPU[0]()
        job = self.platform.submit(
            program_id="sampler",
            backend=self.name,
            params=json.loads(self.body),
            session_id=self.session_id,
        )
        self.now += timedelta(seconds=1)
        assert self.platform.job(job.job_id).state == "Completed", job.reason
        return _CPU[0]() - start


PARTS = ("per_job", "server", "floor")


def measure(jobs: int) -> dict:
    figures: dict = {part: {} for part in PARTS} | {"memory": {}}
    for name in BACKENDS:
        for count in SESSIONS:
            key = f"{name}/{count}"
            for part, samples in job_cpu_ms(name, count, jobs).items():
                figures[part][key] = samples
    for name in BACKENDS:
        figures["memory"][name] = retained_kib_per_1000(name)
    return figures


#: The checkout this script belongs to: the "now" / "after" side.
HERE = Path(__file__).resolve().parents[1]


def run_on(package_dir: Path, jobs: int) -> dict:
    """`measure` in a fresh process importing pytest_qsession from `package_dir`."""
    env = dict(os.environ, PYTHONPATH=str(package_dir))
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--jobs", str(jobs)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(out.stdout.splitlines()[-1])


def merge(runs: list[dict]) -> dict:
    merged: dict = {part: {} for part in PARTS} | {"memory": {}}
    for run in runs:
        for part in PARTS:
            for key, samples in run[part].items():
                merged[part].setdefault(key, []).extend(samples)
        for key, kib in run["memory"].items():
            merged["memory"].setdefault(key, []).append(kib)
    return merged


def report(figures: dict[str, dict]) -> None:
    print("1. CPU ms per sequential SamplerV2 job (Bell, 4096 shots) in a Session, median;")
    print("   open = the client's session plus 99 created through the platform")
    print("   a. in all (client and fake)")
    _per_job_table(figures, "per_job")
    print("   b. the fake's answers alone (its request handler: API, platform, Aer)")
    _per_job_table(figures, "server")
    print("   c. the client's floor: the same client against a canned server replaying the")
    print("      fake's answers to one job (same interception and clock, nothing computed),")
    print("      alternating job by job with the fake; ratio = in all / floor")
    _floor_table(figures)
    if "platform" in next(iter(figures.values())):
        print("   d. the platform alone (submit, run on Aer, complete: no client, no API), both")
        print("      packages in one process, interleaved job by job")
        _per_job_table(figures, "platform")
    _memory_table(figures)


def _per_job_table(figures: dict[str, dict], part: str) -> None:
    labels = list(figures)
    header = ["backend", "open"] + [f"{label} ms" for label in labels]
    header += [f"{label} 100/1" for label in labels]
    if len(labels) == 2:
        header.append(f"{labels[1]}/{labels[0]}")
    rows = []
    for name in BACKENDS:
        medians = {
            label: {n: statistics.median(figures[label][part][f"{name}/{n}"]) for n in SESSIONS}
            for label in labels
        }
        for n in SESSIONS:
            row = [name, str(n)] + [f"{medians[label][n]:.2f}" for label in labels]
            row += [f"{medians[label][100] / medians[label][1]:.2f}" if n == 100 else "" for label in labels]
            if len(labels) == 2:
                row.append(f"{medians[labels[1]][n] / medians[labels[0]][n]:.2f}")
            rows.append(row)
    _table(header, rows)


def _floor_table(figures: dict[str, dict]) -> None:
    header = ["backend", "open"]
    for label in figures:
        header += [f"{label} ms", f"{label} floor ms", f"{label} ratio"]
    rows = []
    for name in BACKENDS:
        for n in SESSIONS:
            row = [name, str(n)]
            for label in figures:
                whole = statistics.median(figures[label]["per_job"][f"{name}/{n}"])
                floor = statistics.median(figures[label]["floor"][f"{name}/{n}"])
                row += [f"{whole:.2f}", f"{floor:.2f}", f"{whole / floor:.2f}"]
            rows.append(row)
    _table(header, rows)


def _memory_table(figures: dict[str, dict]) -> None:
    labels = list(figures)
    print(f"\n2. Memory {RETAINED_JOBS:,} ended jobs keep alive (tracemalloc), KiB per 1,000 jobs")
    header = ["backend"] + [f"{label} KiB" for label in labels]
    rows = [
        [name] + [f"{statistics.median(figures[label]['memory'][name]):,.0f}" for label in labels]
        for name in BACKENDS
    ]
    _table(header, rows)


def _table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("   " + "  ".join(cell.rjust(width) for cell, width in zip(row, widths)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=40, help="timed jobs per cell (default 40)")
    parser.add_argument("--rounds", type=int, default=1, help="fresh processes per side")
    parser.add_argument("--against", type=Path, help="directory holding an older pytest_qsession")
    parser.add_argument("--json", type=Path, help="also write the raw samples here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.jobs)))
        return
    sides: dict[str, list[dict]] = {"before": [], "after": []} if args.against else {"now": []}
    order = [("before", args.against), ("after", HERE)] if args.against else [("now", HERE)]
    for round in range(args.rounds):  # alternate who goes first: load hits both sides alike
        for label, package in order if round % 2 == 0 else order[::-1]:
            sides[label].append(run_on(package, args.jobs))
    figures = {label: merge(runs) for label, runs in sides.items()}
    if args.against:
        for label, samples in platform_side(args.against, args.jobs * args.rounds).items():
            figures[label]["platform"] = samples
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
