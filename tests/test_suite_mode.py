"""Suite mode: a suite written for the real service runs offline with only `--fake-runtime`.

The project below is shaped like real ones: the user's own token, CRN, `QISKIT_IBM_URL` and a
named saved account; session-, module- and class-scoped service fixtures; a module that builds
a service at import; a `unittest.TestCase` with `setUpClass`; a device the client ships no
snapshot for, served through `backend_aliases`; a test that skips without `QISKIT_IBM_URL`.
"""

from __future__ import annotations

import json

import pytest

USER_CRN = "crn:v1:bluemix:public:quantum-computing:us-east:a/1234abcd:11112222-3333-4444-5555-666677778888::"
PROD_CRN = "crn:v1:bluemix:public:quantum-computing:eu-de:a/1234abcd:99998888-7777-6666-5555-444433332222::"

CONFTEST = """
import os
import pytest
from qiskit_ibm_runtime import QiskitRuntimeService

@pytest.fixture(scope="session")
def service():
    return QiskitRuntimeService(
        channel="ibm_quantum_platform",
        token=os.environ["MY_QUANTUM_TOKEN"],
        instance=os.environ["MY_QUANTUM_CRN"],
    )
"""

TEST_REAL_SUITE = """
import os
import unittest

import pytest
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2, Session

AT_IMPORT = QiskitRuntimeService()          # built while the module is collected
CRN = os.environ["MY_QUANTUM_CRN"]


def instance_of(service):
    # the CRN the service uses (clients before 0.41 have no active_instance())
    return service.active_instance() if hasattr(service, "active_instance") else service._account.instance


def bell(backend):
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return generate_preset_pass_manager(optimization_level=1, backend=backend).run(circuit)


@pytest.fixture(scope="module")
def device(service):
    return service.backend("ibm_boston_next")       # served through backend_aliases


def test_import_time_service_uses_the_environment():
    assert instance_of(AT_IMPORT) == CRN
    assert "ibm_fez" in [b.name for b in AT_IMPORT.backends()]


@pytest.mark.skipif("QISKIT_IBM_URL" not in os.environ, reason="needs the real service")
def test_url_is_left_as_the_user_set_it():
    assert os.environ["QISKIT_IBM_URL"] == "https://cloud.ibm.com"


def test_session_on_an_aliased_device(service, device):
    assert device.name == "ibm_boston_next" and device.num_qubits == 156
    with Session(backend=device) as session:
        job = SamplerV2(mode=session).run([bell(device)])
        assert set(job.result()[0].data.meas.get_counts()) <= {"00", "11"}
    assert session.status() == "Closed"


def test_named_saved_account():
    prod = QiskitRuntimeService(name="prod")
    assert instance_of(prod) == os.environ["PROD_CRN"]


def test_instance_by_name():
    named = QiskitRuntimeService(channel="ibm_quantum_platform", token="any-key",
                                 instance="my-team-instance")
    assert instance_of(named).startswith("crn:v1:bluemix:public:quantum-computing:")


def test_history_accumulates_over_the_run(service):
    jobs = service.jobs(limit=None)
    assert len(jobs) >= 1  # the session job of the test above (run in file order)


class TestWithClassScope:
    @pytest.fixture(scope="class")
    def torino(self, service):
        return service.backend("ibm_torino")

    def test_job_mode(self, torino):
        job = SamplerV2(mode=torino).run([bell(torino)], shots=100)
        assert sum(job.result()[0].data.meas.get_counts().values()) == 100


class TestUnittestStyle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.service = QiskitRuntimeService(channel="ibm_quantum_platform",
                                           token=os.environ["MY_QUANTUM_TOKEN"], instance=CRN)
        cls.backend = cls.service.backend("ibm_fez")

    def test_least_busy_and_session(self):
        self.assertEqual(self.service.least_busy().name, "ibm_fez")
        with Session(backend=self.backend) as session:
            self.assertEqual(session.status(), "Pending")
"""


def _user_world(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's environment and saved accounts, as on a developer's machine."""
    monkeypatch.setenv("MY_QUANTUM_TOKEN", "the-users-own-api-key")
    monkeypatch.setenv("MY_QUANTUM_CRN", USER_CRN)
    monkeypatch.setenv("PROD_CRN", PROD_CRN)
    monkeypatch.setenv("QISKIT_IBM_TOKEN", "the-users-own-api-key")
    monkeypatch.setenv("QISKIT_IBM_INSTANCE", USER_CRN)
    monkeypatch.setenv("QISKIT_IBM_URL", "https://cloud.ibm.com")
    accounts = pytester.path / ".qiskit" / "qiskit-ibm.json"  # pytester's HOME
    accounts.parent.mkdir()
    saved = {
        "prod": {
            "channel": "ibm_quantum_platform",
            "token": "the-users-prod-key",
            "url": "https://cloud.ibm.com",
            "instance": PROD_CRN,
        }
    }
    accounts.write_text(json.dumps(saved))
    monkeypatch.setenv("HOME", str(pytester.path))


def test_a_suite_written_for_the_real_service_passes_with_only_the_flag(pytester, monkeypatch):
    _user_world(pytester, monkeypatch)
    before = (pytester.path / ".qiskit" / "qiskit-ibm.json").read_text()
    pytester.makeini(
        """
        [pytest]
        fake_runtime_options =
            backend_aliases={"ibm_boston_next": "ibm_fez"}
        filterwarnings = ignore::DeprecationWarning
        """
    )
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_real_suite=TEST_REAL_SUITE)

    result = pytester.runpytest_subprocess("--fake-runtime", "-p", "no:randomly")

    result.assert_outcomes(passed=8)
    assert (pytester.path / ".qiskit" / "qiskit-ibm.json").read_text() == before


def test_without_the_flag_the_same_suite_is_not_faked(pytester, monkeypatch):
    _user_world(pytester, monkeypatch)
    pytester.makepyfile(
        """
        from urllib3.connectionpool import HTTPConnectionPool

        def test_nothing_is_patched():
            assert HTTPConnectionPool._make_request.__module__ == "urllib3.connectionpool"
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_each_xdist_worker_gets_its_own_suite_platform(pytester):
    pytester.makepyfile(
        """
        import pytest
        from qiskit_ibm_runtime import QiskitRuntimeService, Session

        @pytest.mark.parametrize("n", range(4))
        def test_session(n):
            service = QiskitRuntimeService()
            with Session(backend=service.backend("ibm_fez")) as session:
                assert session.details()["state"] == "open"
            assert session.details()["state"] == "closed"
        """
    )
    pytester.runpytest_subprocess("--fake-runtime", "-n", "2").assert_outcomes(passed=4)


def test_a_marked_test_gets_its_own_platform_on_top_of_the_suites(pytester):
    pytester.makepyfile(
        """
        import pytest
        from qiskit_ibm_runtime import QiskitRuntimeService, Session

        def test_suite_platform_gets_a_session():
            Session(backend=QiskitRuntimeService().backend("ibm_fez"))

        @pytest.mark.fake_runtime(start="2030-01-01T00:00:00Z", backends=["ibm_torino"])
        def test_own_platform(fake_runtime):
            assert fake_runtime.clock.now().year == 2030
            assert [b.name for b in QiskitRuntimeService().backends()] == ["ibm_torino"]
            assert fake_runtime.sessions == []

        def test_suite_platform_again():
            service = QiskitRuntimeService()
            assert "ibm_fez" in [b.name for b in service.backends()]
        """
    )
    pytester.runpytest("--fake-runtime", "-p", "no:randomly").assert_outcomes(passed=3)


def test_an_unimplemented_route_in_suite_mode_fails_that_test_only(pytester):
    pytester.makepyfile(
        """
        import requests

        def test_asks_for_an_unknown_route():
            reply = requests.get("https://quantum.cloud.ibm.com/api/v1/workloads")
            assert reply.status_code == 501

        def test_next_one_is_fine():
            pass
        """
    )
    result = pytester.runpytest("--fake-runtime", "-p", "no:randomly")

    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_asks_for_an_unknown_route*"])


def test_a_failing_suite_test_reports_what_the_suite_platform_did_during_it(pytester):
    pytester.makepyfile(
        """
        from qiskit_ibm_runtime import QiskitRuntimeService, Session

        def test_fails():
            Session(backend=QiskitRuntimeService().backend("ibm_fez"))
            assert False
        """
    )
    result = pytester.runpytest("--fake-runtime")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*fake_runtime timeline (the suite's platform, during this test)*", "*session * created*"]
    )


def test_an_error_in_the_users_hook_fails_the_suite_test_that_caused_it(pytester):
    pytester.makeconftest(
        """
        def pytest_qsession_job_duration(job):
            raise ZeroDivisionError("the user's model divided by zero")
        """
    )
    pytester.makepyfile(
        """
        from qiskit import QuantumCircuit
        from qiskit.transpiler import generate_preset_pass_manager
        from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2

        def test_before_is_fine():
            QiskitRuntimeService().backend("ibm_fez")

        def test_runs_a_job():
            backend = QiskitRuntimeService().backend("ibm_fez")
            circuit = QuantumCircuit(1)
            circuit.measure_all()
            isa = generate_preset_pass_manager(optimization_level=0, backend=backend).run(circuit)
            job = SamplerV2(mode=backend).run([isa])
            assert job.status() == "ERROR"

        def test_after_is_fine():
            QiskitRuntimeService().backend("ibm_fez")
        """
    )
    result = pytester.runpytest("--fake-runtime", "-p", "no:randomly", "-W", "ignore::DeprecationWarning")

    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_runs_a_job*", "*ZeroDivisionError*divided by zero*"])


def test_an_account_saved_under_the_fake_is_private_to_that_test_and_gone_after_it(
    pytester, monkeypatch
):
    monkeypatch.setenv("HOME", str(pytester.path))
    pytester.makepyfile(
        """
        import os
        from qiskit_ibm_runtime import QiskitRuntimeService
        from qiskit_ibm_runtime.accounts import management

        FOLDERS = []

        def test_saves_an_account_and_signs_in_with_it(fake_runtime):
            QiskitRuntimeService.save_account(
                channel="ibm_quantum_platform", token="my-key",
                instance=fake_runtime.account.crn, name="mine",
            )
            FOLDERS.append(os.path.dirname(management._DEFAULT_ACCOUNT_CONFIG_JSON_FILE))
            assert os.path.isfile(management._DEFAULT_ACCOUNT_CONFIG_JSON_FILE)
            service = QiskitRuntimeService(name="mine")
            assert service.active_account()["token"] == "my-key"

        def test_the_next_test_starts_without_it(fake_runtime):
            assert not os.path.exists(FOLDERS[0])
            assert "mine" not in QiskitRuntimeService.saved_accounts()
        """
    )

    result = pytester.runpytest_subprocess("-p", "no:randomly")

    result.assert_outcomes(passed=2)
    assert not (pytester.path / ".qiskit").exists()  # the user's own file was never written
