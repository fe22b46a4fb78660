"""Virtual time moves as it does for real code: busy polling sees progress, and with several
threads time moves only when every thread taking part waits (trio's autojump clock)."""

from __future__ import annotations

import queue
import re
import threading
import time
from datetime import timedelta

import pytest
from qiskit_ibm_runtime import SamplerV2, Session

from conftest import bell
from pytest_qsession import FakeRuntime, NeverFinishes, Options
from pytest_qsession.pacing import BUSY_READS

JOIN_TIMEOUT = 60  # real seconds; every thread here ends by itself long before


def _started(*threads: threading.Thread) -> list[threading.Thread]:
    for thread in threads:
        thread.start()
    return list(threads)


def _join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
        assert not thread.is_alive(), f"{thread.name} did not end"


# -- busy polling -------------------------------------------------------------------------------


@pytest.mark.fake_runtime(job_duration=7.5)
def test_a_busy_loop_on_job_status_ends_with_done_at_the_jobs_exact_end(fake_runtime, run, backend):
    job = run(backend)
    start = fake_runtime.clock.now()

    status = job.status()
    while status not in ("DONE", "ERROR", "CANCELLED"):
        status = job.status()

    assert status == "DONE"
    assert fake_runtime.job(job).finished == start + timedelta(seconds=7.5)
    assert fake_runtime.clock.now() == start + timedelta(seconds=7.5)


def test_reads_at_one_instant_agree_until_the_loop_counts_as_waiting(fake_runtime, run, backend):
    job = run(backend)  # starts at once, ends 2 s later
    start = fake_runtime.clock.now()

    assert [job.status() for _ in range(BUSY_READS)] == ["RUNNING"] * BUSY_READS
    assert fake_runtime.clock.now() == start  # a test reading a state repeatedly is not a wait

    assert job.status() == "DONE"  # one read more: a busy loop, so time moves to the next event
    assert fake_runtime.clock.now() == start + timedelta(seconds=2)


def test_reading_many_records_once_each_at_one_instant_is_not_a_wait(fake_runtime, run, backend):
    first, second = run(backend), run(backend)
    start = fake_runtime.clock.now()

    reads = [job.status() for _ in range(BUSY_READS) for job in (first, second)]

    assert reads == ["RUNNING", "QUEUED"] * BUSY_READS  # 2 x BUSY_READS reads, none a wait
    assert fake_runtime.clock.now() == start


def test_a_busy_loop_on_session_details_sees_it_go_inactive_at_exactly_the_ittl(fake_runtime, run, backend):
    with Session(backend=backend) as session:
        job = run(session)
        while session.details()["state"] != "inactive":
            pass

        record = fake_runtime.session(session)
        assert fake_runtime.clock.now() == fake_runtime.job(job).finished + timedelta(seconds=60)
        assert [state for state, _ in record.timestamps] == ["open", "active", "inactive"]


def test_a_busy_loop_on_a_job_that_can_never_finish_fails_naming_the_offline_backend(fake_runtime, run, backend):
    fake_runtime.take_offline("ibm_sherbrooke")
    job = run(backend)

    with pytest.raises(NeverFinishes, match=f"job {job.job_id()} is polled in a loop.*ibm_sherbrooke, which is offline"):
        while not job.done():
            pass


def test_never_finishes_names_the_offline_backend_behind_the_job(fake_runtime, run, backend):
    fake_runtime.take_offline("ibm_sherbrooke")
    job = run(backend)

    with pytest.raises(NeverFinishes, match="it is QUEUED on ibm_sherbrooke, which is offline"):
        job.result()


# -- threads ------------------------------------------------------------------------------------


def test_a_background_sleeper_moves_time_only_while_the_others_wait(fake_runtime, service):
    stop, ticks, seen = threading.Event(), [], {}

    def background():
        while not stop.is_set():
            time.sleep(0.01)
            ticks.append(fake_runtime.clock.now())

    start = fake_runtime.clock.now()
    (sleeper,) = _started(threading.Thread(target=background, name="sleeper"))
    service.backends()  # work: requests, with the sleeper started, hold time still
    sum(range(200_000))
    seen["after work"] = fake_runtime.clock.now()
    time.sleep(1)  # now the main thread waits too: the sleeper's 0.01 s steps move time
    seen["ticks at wake"] = len(ticks)
    stop.set()
    _join([sleeper])

    assert seen["after work"] == start
    assert fake_runtime.clock.now() == start + timedelta(seconds=1)
    assert seen["ticks at wake"] == 99  # the 100th step falls due with us; we joined first
    assert ticks[:3] == [start + timedelta(seconds=0.01 * n) for n in (1, 2, 3)]


def test_a_result_waits_for_another_thread_to_bring_the_backend_online(fake_runtime, run, backend):
    fake_runtime.take_offline("ibm_sherbrooke")
    job = run(backend)
    start = fake_runtime.clock.now()
    results = []

    def operator():
        time.sleep(30)
        fake_runtime.bring_online("ibm_sherbrooke")

    _join(_started(threading.Thread(target=lambda: results.append(job.result())), threading.Thread(target=operator)))

    assert results[0][0].data.meas.num_shots == 4096
    record = fake_runtime.job(job)
    assert (record.started, record.finished) == (start + timedelta(seconds=30), start + timedelta(seconds=32))


def test_a_thread_woken_through_a_queue_runs_before_time_moves_on(fake_runtime, run, backend):
    items: queue.Queue = queue.Queue()
    start = fake_runtime.clock.now()
    created = []

    def producer():
        time.sleep(10)
        items.put("go")
        time.sleep(100)  # the consumer must get its turn before this wait moves time

    def consumer():
        items.get()
        created.append(fake_runtime.job(run(backend)).created)

    _join(_started(threading.Thread(target=producer), threading.Thread(target=consumer)))

    assert created == [start + timedelta(seconds=10)]


def test_joining_a_thread_that_ended_goes_on_at_its_end_not_at_another_wake_up(fake_runtime):
    start = fake_runtime.clock.now()
    stop = threading.Event()

    def sleeper():
        while not stop.is_set():
            time.sleep(100)

    short, long = _started(threading.Thread(target=time.sleep, args=(3,)), threading.Thread(target=sleeper))
    short.join(JOIN_TIMEOUT)
    joined_at = fake_runtime.clock.now()
    stop.set()
    _join([long])

    assert joined_at == start + timedelta(seconds=3)


def _long_and_short(fake: FakeRuntime, isa) -> str:
    """One thread waits on a one-hour job; another runs three session jobs 20 s apart."""
    service = fake.service()
    long_backend, session_backend = service.backend("ibm_fez"), service.backend("ibm_sherbrooke")
    long_circuit, circuit = isa(bell(), long_backend), isa(bell(), session_backend)

    def long_job():
        sampler = SamplerV2(mode=long_backend, options={"environment": {"job_tags": ["long"]}})
        sampler.run([long_circuit]).result()

    def session_jobs():
        with Session(backend=session_backend) as session:
            sampler = SamplerV2(mode=session)
            for _ in range(3):
                sampler.run([circuit]).result()
                time.sleep(20)  # classical work between iterations

    _join(_started(threading.Thread(target=long_job), threading.Thread(target=session_jobs)))
    return fake.timeline()


def _an_hour_for_long_jobs(job) -> float:
    return 3600.0 if "long" in job.tags else 2.0


@pytest.mark.fake_runtime(job_duration=_an_hour_for_long_jobs)
def test_a_long_wait_in_one_thread_does_not_fast_forward_a_session_in_another(fake_runtime, isa):
    start = fake_runtime.clock.now()

    _long_and_short(fake_runtime, isa)

    long_job, *session_jobs = fake_runtime.jobs
    (session,) = fake_runtime.sessions
    assert long_job.finished == start + timedelta(seconds=3600)
    assert [(j.started - start).total_seconds() for j in session_jobs] == [0, 22, 44]
    assert [state for state, _ in session.timestamps] == ["open", "active", "closed"]  # no ITTL
    assert session.closed_by == "close"
    assert fake_runtime.clock.now() == start + timedelta(seconds=3600)


def test_two_threads_give_the_same_timeline_on_every_run(isa):
    def timeline() -> str:
        options = Options.build(job_duration=_an_hour_for_long_jobs)
        with FakeRuntime(options) as fake:
            return _long_and_short(fake, isa)

    first = timeline()
    assert "session" in first and first.count(" done") == 4
    assert [timeline() for _ in range(2)] == [first, first]


def test_threads_take_turns_in_the_order_they_started(fake_runtime, run, backend):
    submitted = []

    def submit(name):
        submitted.append((name, run(backend).job_id()))

    _join(_started(*(threading.Thread(target=submit, args=(f"t{n}",)) for n in range(4))))

    assert [name for name, _ in submitted] == ["t0", "t1", "t2", "t3"]
    assert [job_id for _, job_id in submitted] == [job.job_id for job in fake_runtime.jobs]


def test_a_thread_blocked_where_the_fake_cannot_see_is_let_go(fake_runtime, monkeypatch):
    from pytest_qsession import pacing

    monkeypatch.setattr(pacing, "STALL_SECONDS", 0.2)
    gate = threading.Lock()
    gate.acquire()
    start = fake_runtime.clock.now()

    (blocked,) = _started(threading.Thread(target=gate.acquire, name="blocked"))  # a bare lock: unseen
    time.sleep(5)  # would wait forever on a thread that never waits
    gate.release()
    _join([blocked])

    assert fake_runtime.clock.now() == start + timedelta(seconds=5)
    assert "thread blocked let go" in fake_runtime.timeline()


SUITE = '''
import threading, time

from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import SamplerV2, Session


def bell_job(mode, backend):
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    isa = generate_preset_pass_manager(optimization_level=1, backend=backend).run(circuit)
    return SamplerV2(mode=mode).run([isa])


def test_busy_loop(fake_runtime):
    backend = fake_runtime.service().backend("ibm_fez")
    job = bell_job(backend, backend)
    while not job.done():
        pass
    print("BUSY", job.status(), fake_runtime.clock.now().isoformat())


def test_threads(fake_runtime):
    backend = fake_runtime.service().backend("ibm_fez")

    def worker(pause):
        with Session(backend=backend) as session:
            for _ in range(2):
                bell_job(session, backend).result()
                time.sleep(pause)

    threads = [threading.Thread(target=worker, args=(p,)) for p in (5, 70)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for line in fake_runtime.timeline().splitlines():
        print("THREADS", line)
'''


def _printed(result) -> list[str]:
    """The suite's own lines (with -s they may follow pytest's progress on the same line)."""
    found = [re.search(r"(BUSY|THREADS) .*", line) for line in result.outlines]
    return sorted(match.group(0) for match in found if match)


def test_a_suite_with_busy_loops_and_threads_prints_the_same_history_in_any_order(pytester):
    pytester.makepyfile(test_suite=SUITE)

    in_order = pytester.runpytest("-s", "-p", "no:randomly")
    shuffled = pytester.runpytest("-s", "-p", "randomly", "-p", "no:cacheprovider", "--randomly-seed=7")

    in_order.assert_outcomes(passed=2)
    shuffled.assert_outcomes(passed=2)
    assert "BUSY DONE 2026-01-05T09:00:02+00:00" in _printed(in_order)
    assert any("inactive" in line for line in _printed(in_order))  # the 70 s pause outlives the ITTL
    assert _printed(shuffled) == _printed(in_order)


def test_teardown_lets_a_busy_polling_thread_go_and_undoes_every_wrapper(isa):
    originals = _stdlib_waits()
    stopped = threading.Event()
    with FakeRuntime() as fake:
        backend = fake.service().backend("ibm_sherbrooke")
        fake.take_offline("ibm_sherbrooke")
        job = SamplerV2(mode=backend).run([isa(bell(), backend)])

        def poll():
            while not stopped.is_set() and job.status() == "QUEUED":
                pass

        (poller,) = _started(threading.Thread(target=poll))
        time.sleep(5)  # the poller busy-waits on a job that cannot run; our sleep moves time
        assert fake.clock.now() == fake.platform.origin + timedelta(seconds=5)
        stopped.set()  # the poller is still waiting when the fake stops
    _join([poller])

    assert _stdlib_waits() == originals


def _stdlib_waits() -> tuple:
    """What the fake wraps while it is active."""
    cond, thread = threading.Condition, threading.Thread
    return cond.wait, cond.notify, thread.join, thread.start, queue.SimpleQueue
