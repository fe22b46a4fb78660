"""Benchmark pytest-qsession: what a fake job, a long virtual run and a test's set-up cost.

Run with `python bench/run.py` (`--quick` for a smoke run, `--json PATH` for the raw figures).
Every comparison is measured side by side in the same process, because the machines this runs on
are small and noisy: read the medians and the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path

from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer.primitives import SamplerV2 as AerSampler
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2, Session
from qiskit_ibm_runtime.exceptions import IBMRuntimeError
from qiskit_ibm_runtime.fake_provider import FakeManilaV2, FakeSherbrooke

# bench/per_job.py: the floor and the retained memory, shared with that script's own runs
from per_job import BACKENDS as FLOOR_BACKENDS
from per_job import SESSIONS, job_cpu_ms, open_sessions_cost, retained_kib_per_1000
from pytest_qsession import FakeRuntime, FakeRuntimeServer, Options

warnings.filterwarnings(
    "ignore", message="The (Sampler|Estimator)V2 class is deprecated", category=DeprecationWarning
)
logging.getLogger("qiskit_ibm_runtime").setLevel(logging.ERROR)  # "Loading account ..." noise

# While a FakeRuntime is active, freezegun freezes time.perf_counter and rewrites every module
# global bound to it, this module's included. It does not look inside lists.
_REAL_CLOCK = [time.perf_counter]

#: Backend name on the fake platform -> the client's local-testing twin of the same device.
BACKENDS = {"ibm_sherbrooke": FakeSherbrooke, "ibmq_manila": FakeManilaV2}


def now() -> float:
    """Real seconds, even while freezegun holds the clock."""
    return _REAL_CLOCK[0]()


@dataclass(frozen=True)
class Plan:
    """How much to measure: the full run, or a quick smoke run."""

    counts: tuple[int, ...]  # N: jobs in one session
    min_jobs: int  # a cell repeats its session until it has timed at least this many jobs
    local_cap: dict[str, int]  # largest N for local testing mode, per backend (it is slow)
    repeats: int  # samples for the long-job and set-up sections
    scenario_hours: int
    first_tests: int  # fresh interpreters timing their first fixture
    suite_tests: int  # tests in each suite timed through pytest
    suite_runs: int  # runs of each of the two suites
    floor_jobs: int  # jobs against the fake and against the floor, per cell
    setups: int  # samples of the per-test set-up

    @classmethod
    def full(cls) -> Plan:
        return cls((1, 10, 100), 5, {"ibm_sherbrooke": 10}, 15, 8, 5, 200, 4, 150, 100)

    @classmethod
    def quick(cls) -> Plan:
        return cls((1, 10), 2, {"ibm_sherbrooke": 1}, 3, 1, 1, 20, 1, 10, 6)


def bell() -> QuantumCircuit:
    circuit = QuantumCircuit(2, name="bell")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


_ISA: dict[tuple[str, str], QuantumCircuit] = {}


def isa(kind: str, backend) -> QuantumCircuit:
    """The Bell circuit transpiled once per (kind, backend), outside every timed region."""
    key = (kind, backend.name)
    if key not in _ISA:
        manager = generate_preset_pass_manager(optimization_level=1, backend=backend)
        _ISA[key] = manager.run(bell())
    return _ISA[key]


def time_each(action: Callable[[], object], times: int) -> list[float]:
    """Real seconds of each of `times` sequential calls."""
    samples = []
    for _ in range(times):
        start = now()
        action()
        samples.append(now() - start)
    return samples


def started_fake(**options) -> tuple[FakeRuntime, float]:
    """A started FakeRuntime and the real seconds `start()` took; the caller must stop it."""
    start = now()
    fake = FakeRuntime(Options.build(**options)).start()
    return fake, now() - start


def check_real_clock() -> None:
    """Fail loudly if freezegun has reached our timer, since every figure would then read 0."""
    fake, _ = started_fake(backends=["ibmq_manila"])
    try:
        start, frozen = now(), time.perf_counter()
        sum(range(100_000))
        assert time.perf_counter() == frozen, "the fake clock is not frozen"
        assert 0 < now() - start < 1, "the bench timer does not read real time"
    finally:
        fake.stop()


# -- 1. per-job real time ------------------------------------------------------------------------


def fake_runtime_jobs(name: str, n: int, shots: int) -> tuple[dict, list[float]]:
    """One session of `n` jobs on a fresh fake platform: (set-up seconds by step, job seconds)."""
    fake, started = started_fake(backends=[name])
    try:
        mark = now()
        service = fake.service()
        served = now() - mark
        mark = now()
        backend = service.backend(name)
        _ = backend.target  # the client builds its Target here: part of the set-up cost
        setup = {"start": started, "service": served, "backend": now() - mark}
        circuit = isa("fake_runtime", backend)
        with Session(backend=backend) as session:
            sampler = SamplerV2(mode=session)
            return setup, time_each(lambda: sampler.run([circuit], shots=shots).result(), n)
    finally:
        fake.stop()


def local_mode_jobs(name: str, n: int, shots: int) -> list[float]:
    backend = BACKENDS[name]()
    circuit = isa("local", backend)
    with Session(backend=backend) as session:
        sampler = SamplerV2(mode=session)
        return time_each(lambda: sampler.run([circuit], shots=shots).result(), n)


def aer_jobs(n: int, shots: int) -> list[float]:
    sampler, circuit = AerSampler(), bell()
    return time_each(lambda: sampler.run([circuit], shots=shots).result(), n)


def per_job(plan: Plan, shots: int) -> dict:
    """Each cell repeats fresh sessions until it has `min_jobs` samples; the three ways of
    running interleave, cell by cell, so they share the machine's mood."""
    figures: dict = {}
    for name in BACKENDS:
        setups: dict[str, list[float]] = {"start": [], "service": [], "backend": []}
        for n in plan.counts:
            rounds = math.ceil(plan.min_jobs / n)
            cell = {"fake_runtime": [], "local": [], "aer": []}
            for _ in range(rounds):
                setup, times = fake_runtime_jobs(name, n, shots)
                for step, seconds in setup.items():
                    setups[step].append(seconds)
                cell["fake_runtime"] += times
                if n <= plan.local_cap.get(name, n):
                    cell["local"] += local_mode_jobs(name, n, shots)
                cell["aer"] += aer_jobs(n, shots)
            figures[f"{name}/N={n}"] = {"backend": name, "n": n, "rounds": rounds, **cell}
        figures[f"{name}/setup"] = {"backend": name, "setup": setups}
    return figures


def print_per_job(figures: dict, plan: Plan, shots: int) -> None:
    print(f"1. Per-job real time: sequential SamplerV2 jobs, Bell circuit, {shots} shots")
    print("   fake_runtime = this plugin; local = local testing mode (fake_provider backend);")
    print("   aer = qiskit_aer SamplerV2 on the untranspiled circuit. Median over every job of")
    print("   the cell; 'jobs' = rounds x N (a fresh session and fake platform per round).")
    header = ("backend", "N", "jobs", "fake ms", "local ms", "aer ms", "fake/local", "fake/aer")
    rows = []
    for cell in figures.values():
        if "setup" in cell:
            continue
        fake, local, aer = (_median_ms(cell[k]) for k in ("fake_runtime", "local", "aer"))
        rows.append((
            cell["backend"], cell["n"], f"{cell['rounds']}x{cell['n']}", f"{fake:.1f}",
            f"{local:.1f}" if local else "skipped", f"{aer:.1f}",
            f"{fake / local:.3f}" if local else "-", f"{fake / aer:.2f}",
        ))
    _table(header, rows)
    for name, cap in plan.local_cap.items():
        print(f"   local mode on {name} runs only for N <= {cap}: it simulates every job with")
        print("   the whole device's noise model, which takes seconds per job.")
    print()
    print("   Set-up of fake_runtime per round, not in the job times: FakeRuntime(...).start(),")
    print("   fake.service(), then service.backend(name) + backend.target; medians.")
    header = ("backend", "set-ups", "start ms", "service ms", "backend ms", "total ms", "max ms")
    rows = []
    for cell in figures.values():
        if "setup" in cell:
            steps = cell["setup"]
            totals = [sum(parts) for parts in zip(*steps.values())]
            rows.append((
                cell["backend"], len(totals), *(f"{_median_ms(steps[k]):.0f}" for k in steps),
                f"{_median_ms(totals):.0f}", f"{max(totals) * 1000:.0f}",
            ))
    _table(header, rows)
    print()


# -- 2. long jobs --------------------------------------------------------------------------------


def one_job(duration: float, shots: int) -> tuple[float, float]:
    """Real seconds of `result()` for one job of `duration` virtual seconds, and the virtual
    seconds that passed meanwhile. (Aer runs at submission, so this is the waiting alone.)"""
    name = "ibmq_manila"
    fake, _ = started_fake(backends=[name], job_duration=duration)
    try:
        backend = fake.service().backend(name)
        job = SamplerV2(mode=backend).run([isa("fake_runtime", backend)], shots=shots)
        virtual, start = fake.clock.now(), now()
        job.result()
        return now() - start, (fake.clock.now() - virtual).total_seconds()
    finally:
        fake.stop()


#: Virtual job lengths compared. 1800 s is a control: shorter than the client's IAM token (1 h),
#: which a 3600 s wait outlives, so the client renews it (one more request, POST /identity/token).
DURATIONS = ("1", "1800", "3600")


def long_jobs(plan: Plan, shots: int) -> dict:
    """Durations interleaved, in alternating order, so none always runs first."""
    figures = {d: {"real": [], "virtual": []} for d in DURATIONS}
    for repeat in range(plan.repeats):
        for duration in DURATIONS[:: 1 if repeat % 2 else -1]:
            real, virtual = one_job(float(duration), shots)
            figures[duration]["real"].append(real)
            figures[duration]["virtual"].append(virtual)
    return figures


def print_long_jobs(figures: dict) -> None:
    repeats = len(figures["1"]["real"])
    print(f"2. Long jobs cost no more: result() of one job on ibmq_manila, median of {repeats}.")
    print("   A 3600 s wait outlives the client's 1 h IAM token, so the client makes one more")
    print("   request (POST /identity/token); 1800 s is the control. Order alternates per repeat.")
    base = _median_ms(figures["1"]["real"])
    rows = [
        (
            f"{d} s", f"{statistics.median(s['virtual']):.0f}", f"{_median_ms(s['real']):.1f}",
            f"{_median_ms(s['real']) / base:.2f}",
        )
        for d, s in figures.items()
    ]
    _table(("job_duration", "virtual s waited", "real ms", "vs 1 s"), rows)
    print()


# -- 3. a long virtual session -------------------------------------------------------------------

#: Pauses between jobs, cycled, like classical work between iterations: >60 s lets the
#: interactive timeout make the session inactive, shorter ones keep it active.
GAPS = (20, 900, 45, 1800)


def long_session(plan: Plan, shots: int) -> dict:
    """Play a session until its max time closes it, jobs and pauses alternating."""
    name = "ibmq_manila"
    fake, _ = started_fake(backends=[name])
    try:
        backend = fake.service().backend(name)
        circuit = isa("fake_runtime", backend)
        begun, virtual_start = now(), fake.clock.now()
        session = Session(backend=backend, max_time=f"{plan.scenario_hours}h")
        sampler = SamplerV2(mode=session)
        job_times = []
        while True:
            start = now()
            try:
                sampler.run([circuit], shots=shots).result()
            except IBMRuntimeError as error:
                message = re.search(r'"message": "([^"]*)"', str(error))
                refused = f"{type(error).__name__}: {message[1] if message else error}"
                break
            job_times.append(now() - start)
            gap = GAPS[len(job_times) % len(GAPS)]
            if gap > 60:
                time.sleep(gap)  # the virtual sleep, as user code would wait
            else:
                fake.clock.tick(gap)
        record = fake.session(session)
        return {
            "virtual_s": (fake.clock.now() - virtual_start).total_seconds(),
            "real_s": now() - begun,
            "jobs": len(job_times),
            "job_times": job_times,
            "state": record.state,
            "closed_by": record.closed_by,
            "inactive_periods": sum(state == "inactive" for state, _ in record.timestamps),
            "closed_after": str(record.closed_at - record.started_at),
            "refused": refused,
            "hours": plan.scenario_hours,
        }
    finally:
        fake.stop()


def print_long_session(figures: dict) -> None:
    hours, times = figures["hours"], figures["job_times"]
    print(f"3. Long virtual scenario: one Session(max_time='{hours}h') on ibmq_manila, pauses")
    print(f"   of {', '.join(map(str, GAPS))} s between jobs (cycled), until max_time ends it")
    rows = [(
        str(timedelta(seconds=round(figures["virtual_s"]))), figures["jobs"],
        f"{figures['real_s']:.1f}", figures["inactive_periods"], figures["state"],
        figures["closed_by"], figures["closed_after"],
    )]
    header = ("virtual time", "jobs", "real s", "went inactive", "state", "closed_by", "closed after")
    _table(header, rows)
    tenth = max(1, len(times) // 10)
    print(f"   median ms/job, first {tenth} jobs: {_median_ms(times[:tenth]):.1f}; "
          f"last {tenth}: {_median_ms(times[-tenth:]):.1f}")
    print(f"   next submission refused with: {figures['refused']}")
    print()


# -- 4. per-test set-up --------------------------------------------------------------------------

#: CPU time, which this machine's load disturbs less than real time (freezegun leaves it alone).
cpu = time.process_time

#: A fresh interpreter with the heavy imports a test suite has before its first test.
FIRST_TEST = """
import logging, time
import qiskit, qiskit_aer, qiskit_ibm_runtime, scipy
from pytest_qsession import FakeRuntime, Options
logging.getLogger("qiskit_ibm_runtime").setLevel(logging.ERROR)
start = time.process_time()
fake = FakeRuntime(Options()).start()
fake.service()
fake.stop()
print(time.process_time() - start)
"""

#: A suite of tests that each build a service, and the same suite without the fixture.
SUITE = """
import pytest
@pytest.mark.parametrize("i", range({count}))
def test_one(i, {fixture}):
    {body}
"""


def per_test(plan: Plan) -> dict:
    """CPU seconds per test of each part of the fixture's set-up, in two loops: the set-up a
    test pays (start, service, stop), then the client's Target build, whose garbage would
    otherwise land in the next sample."""
    parts: dict[str, list[float]] = {
        "start + stop": [], "QiskitRuntimeService()": [], "start + service + stop": [],
        "backend('ibm_sherbrooke').target": [],
    }
    for _ in range(plan.setups):
        mark = cpu()
        fake = FakeRuntime(Options()).start()
        started = cpu()
        try:
            fake.service()
        finally:
            served = cpu()
            fake.stop()
        stopped = cpu()
        parts["start + stop"].append(started - mark + stopped - served)
        parts["QiskitRuntimeService()"].append(served - started)
        parts["start + service + stop"].append(stopped - mark)
    for _ in range(plan.repeats):
        with FakeRuntime(Options()) as fake:
            service = fake.service()
            mark = cpu()
            service.backend("ibm_sherbrooke").target
            parts["backend('ibm_sherbrooke').target"].append(cpu() - mark)
    first = [_child_cpu([sys.executable, "-c", FIRST_TEST]) for _ in range(plan.first_tests)]
    return {"parts": parts, "first": first, "suite": suite_per_test(plan)}


def _child_cpu(command: list[str], **kwargs) -> float:
    """CPU seconds the child itself reports on its last line."""
    out = subprocess.run(command, capture_output=True, text=True, check=True, **kwargs)
    return float(out.stdout.strip().splitlines()[-1])


def suite_per_test(plan: Plan) -> dict:
    """Per test through pytest: a suite of N tests that each take the fixture and build a
    service, less the same N tests without it, in CPU seconds of the whole pytest process."""
    count = plan.suite_tests
    with tempfile.TemporaryDirectory() as folder:
        for name, fixture, body in (
            ("with", "fake_runtime", "fake_runtime.service()"), ("without", "request", "pass"),
        ):
            text = SUITE.format(count=count, fixture=fixture, body=body)
            Path(folder, f"test_{name}.py").write_text(text, encoding="utf-8")
        runs: dict[str, list[float]] = {"with": [], "without": []}
        for repeat in range(plan.suite_runs):
            for name in ("with", "without")[:: 1 if repeat % 2 else -1]:
                runs[name].append(_pytest_cpu(folder, f"test_{name}.py"))
    return {"tests": count, **runs}


def _pytest_cpu(folder: str, file: str) -> float:
    """CPU seconds (user + system) of one `pytest -q -p no:randomly FILE` child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", file],
        cwd=folder, capture_output=True, check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def print_per_test(figures: dict) -> None:
    print("4. Per test, CPU ms (medians): the parts of the fixture's set-up, taken apart")
    rows = [
        (part, len(samples), f"{_median_ms(samples):.2f}", f"{min(samples) * 1000:.2f}")
        for part, samples in figures["parts"].items()
    ]
    first = figures["first"]
    rows.append((
        "first start + service + stop in a process", len(first), f"{_median_ms(first):.1f}",
        f"{min(first) * 1000:.1f}",
    ))
    suite = figures["suite"]
    extra = [(w - wo) / suite["tests"] for w, wo in zip(suite["with"], suite["without"])]
    rows.append((
        f"through pytest: {suite['tests']} tests with fixture + service(), less without",
        len(extra), f"{_median_ms(extra):.2f}", f"{min(extra) * 1000:.2f}",
    ))
    _table(("per test", "samples", "median ms", "min ms"), rows)
    print("   first: a fresh interpreter that has imported qiskit, qiskit_aer, qiskit_ibm_runtime")
    print("   and scipy; through pytest: CPU of the whole pytest process, both suites alternating.")
    print()


# -- 5. through the server ----------------------------------------------------------------------


def server_jobs(server: FakeRuntimeServer, name: str, n: int, shots: int) -> tuple[float, list[float]]:
    """One session of `n` jobs from this process through the server: (reset seconds, job seconds).

    The client here reads the server's environment, exactly as a subprocess would."""
    start = now()
    server.reset(backends=[name])
    reset = now() - start
    saved = {key: os.environ.get(key) for key in server.env}
    os.environ.update(server.env)
    try:
        backend = QiskitRuntimeService().backend(name)
        circuit = isa("fake_runtime", backend)
        with Session(backend=backend) as session:
            sampler = SamplerV2(mode=session)
            return reset, time_each(lambda: sampler.run([circuit], shots=shots).result(), n)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def through_server(plan: Plan, shots: int) -> dict:
    """Server, in process and local mode side by side, cell by cell, N = 10 jobs a round."""
    n = 10
    start = now()
    server = FakeRuntimeServer(time_scale=0.0, instant=True).start()
    figures: dict = {"spawn_s": now() - start, "n": n, "resets": []}
    try:
        for name in BACKENDS:
            cell = {"server": [], "fake_runtime": [], "local": []}
            for _ in range(math.ceil(plan.min_jobs / n)):
                reset, times = server_jobs(server, name, n, shots)
                figures["resets"].append(reset)
                cell["server"] += times
                cell["fake_runtime"] += fake_runtime_jobs(name, n, shots)[1]
                if n <= plan.local_cap.get(name, n):
                    cell["local"] += local_mode_jobs(name, n, shots)
            figures[name] = cell
    finally:
        server.stop()
    return figures


def print_through_server(figures: dict, shots: int) -> None:
    print(f"5. Through the server: sequential SamplerV2 jobs in a Session, {shots} shots, N = {figures['n']}")
    print("   a round; server = this process's client -> HTTP on 127.0.0.1 -> `pytest-qsession")
    print("   serve` (instant mode); fake_runtime = in process; local = local testing mode. Medians.")
    header = ("backend", "server ms", "fake ms", "local ms", "server/fake", "server/local")
    rows = []
    for name in BACKENDS:
        served, fake, local = (_median_ms(figures[name][k]) for k in ("server", "fake_runtime", "local"))
        rows.append((
            name, f"{served:.1f}", f"{fake:.1f}", f"{local:.1f}" if local else "skipped",
            f"{served / fake:.2f}", f"{served / local:.3f}" if local else "-",
        ))
    _table(header, rows)
    print(f"   starting the server process (imports, backends) took {figures['spawn_s']:.1f} s once;")
    print(f"   a reset between tests (a fresh platform) takes {_median_ms(figures['resets']):.1f} ms (median).")
    print()


# -- 6. per job against the client's floor -------------------------------------------------------


def against_floor(plan: Plan) -> dict:
    """`per_job.job_cpu_ms` on two backends, 1 and 100 open sessions, and retained memory."""
    figures: dict = {"jobs": {}, "platform": {}, "memory": {}}
    for name in FLOOR_BACKENDS:
        for open_sessions in SESSIONS:
            figures["jobs"][f"{name}/{open_sessions}"] = job_cpu_ms(name, open_sessions, plan.floor_jobs)
        figures["platform"][name] = open_sessions_cost(name, plan.floor_jobs * 2)
        figures["memory"][name] = retained_kib_per_1000(name)
    return figures


def print_against_floor(figures: dict) -> None:
    jobs = figures["jobs"]
    some = next(iter(jobs.values()))
    print(f"6. Per job against the client's floor, CPU ms (medians of {len(some['per_job'])} jobs")
    print("   each): sequential SamplerV2 jobs (Bell, 4096 shots) in one Session; floor = the same")
    print("   client against a canned server replaying the fake's answers to one job, alternating")
    print("   job by job with the fake; server = the fake's request handler alone; open = sessions")
    print("   open on the platform, the job's own included")
    header = ("backend", "open", "fake ms", "floor ms", "fake/floor", "server ms")
    rows = []
    for key, cell in jobs.items():
        name, open_sessions = key.split("/")
        fake, floor = statistics.median(cell["per_job"]), statistics.median(cell["floor"])
        rows.append((
            name, open_sessions, f"{fake:.2f}", f"{floor:.2f}", f"{fake / floor:.2f}",
            f"{statistics.median(cell['server']):.2f}",
        ))
    _table(header, rows)
    print("   the platform alone (submit, run, complete: no client, no API), 1 and 100 open")
    print("   sessions on two platforms interleaved job by job in one process:")
    rows = []
    for name, samples in figures["platform"].items():
        one, hundred = (statistics.median(samples[n]) for n in SESSIONS)
        rows.append((name, f"{one:.3f}", f"{hundred:.3f}", f"{hundred / one:.2f}"))
    _table(("backend", "1 open ms", "100 open ms", "100/1"), rows)
    memory = ", ".join(f"{kib / 1024:.1f} MiB ({name})" for name, kib in figures["memory"].items())
    print(f"   memory 1,000 ended jobs keep alive (tracemalloc): {memory}")
    print()


# -- output ---------------------------------------------------------------------------------------


def _median_ms(samples: list[float]) -> float | None:
    return statistics.median(samples) * 1000 if samples else None


def _table(header: tuple, rows: list[tuple]) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    for row in (header, *rows):
        print("   " + "  ".join(str(x).rjust(w) for x, w in zip(row, widths)))


def environment() -> dict:
    return {
        "python": platform.python_version(),
        **{pkg: version(pkg) for pkg in ("qiskit", "qiskit-ibm-runtime", "qiskit-aer",
                                         "freezegun", "pytest-qsession")},
        "cores": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer jobs and repeats")
    parser.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    parser.add_argument("--shots", type=int, default=4096)
    parser.add_argument("--server-only", action="store_true", help="only section 5 (server mode)")
    args = parser.parse_args()
    plan = Plan.quick() if args.quick else Plan.full()

    env = environment()
    print("pytest-qsession bench" + (" (quick)" if args.quick else "") + ": "
          + ", ".join(f"{k} {v}" for k, v in env.items()))
    print()
    begun = now()
    results = {"environment": env, "quick": args.quick, "shots": args.shots}
    check_real_clock()
    if not args.server_only:
        results["per_job"] = per_job(plan, args.shots)
        print_per_job(results["per_job"], plan, args.shots)
        results["long_jobs"] = long_jobs(plan, args.shots)
        print_long_jobs(results["long_jobs"])
        results["long_session"] = long_session(plan, args.shots)
        print_long_session(results["long_session"])
        results["per_test"] = per_test(plan)
        print_per_test(results["per_test"])
    results["server"] = through_server(plan, args.shots)
    print_through_server(results["server"], args.shots)
    if not args.server_only:
        results["floor"] = against_floor(plan)
        print_against_floor(results["floor"])
    print(f"total real time: {now() - begun:.0f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
