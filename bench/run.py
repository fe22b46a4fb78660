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
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib.metadata import version

from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer.primitives import SamplerV2 as AerSampler
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2, Session
from qiskit_ibm_runtime.exceptions import IBMRuntimeError
from qiskit_ibm_runtime.fake_provider import FakeManilaV2, FakeSherbrooke

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

    @classmethod
    def full(cls) -> Plan:
        return cls((1, 10, 100), 5, {"ibm_sherbrooke": 10}, 15, 8)

    @classmethod
    def quick(cls) -> Plan:
        return cls((1, 10), 2, {"ibm_sherbrooke": 1}, 3, 1)


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


def check_real_clock() -> float:
    """Fail loudly if freezegun has reached our timer, since every figure would then read 0.

    Returns how long this first `start()` in the process took: freezegun then walks every
    attribute of every loaded module once, which imports scipy's lazy submodules.
    """
    fake, cold_start = started_fake(backends=["ibmq_manila"])
    try:
        start, frozen = now(), time.perf_counter()
        sum(range(100_000))
        assert time.perf_counter() == frozen, "the fake clock is not frozen"
        assert 0 < now() - start < 1, "the bench timer does not read real time"
    finally:
        fake.stop()
    return cold_start


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


def per_test_setup(plan: Plan) -> list[float]:
    """What the fixture costs a test that only builds a service: default options."""
    samples = []
    for _ in range(plan.repeats * 2):
        start = now()
        fake = FakeRuntime(Options()).start()
        try:
            fake.service()
        finally:
            fake.stop()
        samples.append(now() - start)
    return samples


def print_setup(samples: list[float], cold_start: float) -> None:
    print("4. Per-test set-up: FakeRuntime(Options()).start(); fake.service(); fake.stop()")
    ms = [s * 1000 for s in samples]
    _table(
        ("samples", "median ms", "min ms", "max ms"),
        [(len(ms), f"{statistics.median(ms):.1f}", f"{min(ms):.1f}", f"{max(ms):.1f}")],
    )
    print(f"   once per process, the first start() alone took {cold_start * 1000:.0f} ms: freezegun")
    print("   reads every attribute of every loaded module, importing scipy's lazy submodules.")
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
    results["cold_start"] = check_real_clock()
    if not args.server_only:
        results["per_job"] = per_job(plan, args.shots)
        print_per_job(results["per_job"], plan, args.shots)
        results["long_jobs"] = long_jobs(plan, args.shots)
        print_long_jobs(results["long_jobs"])
        results["long_session"] = long_session(plan, args.shots)
        print_long_session(results["long_session"])
        results["setup"] = per_test_setup(plan)
        print_setup(results["setup"], results["cold_start"])
    results["server"] = through_server(plan, args.shots)
    print_through_server(results["server"], args.shots)
    print(f"total real time: {now() - begun:.0f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
