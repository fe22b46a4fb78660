"""Authentication faults real clients meet: IAM refusing an API key it does not know, and the
runtime API refusing an IAM token past its `exp` (which the client renews before that)."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest
import requests
from qiskit.providers.exceptions import QiskitBackendNotFoundError
from qiskit_ibm_runtime import QiskitRuntimeService
from qiskit_ibm_runtime.accounts.exceptions import InvalidAccountError

from conftest import needs_client

IAM = "https://iam.cloud.ibm.com/identity/token"
API = "https://quantum.cloud.ibm.com/api/v1"
HEADERS = {"IBM-API-Version": "2026-04-15"}


def _token(api_key: str) -> requests.Response:
    form = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": api_key}
    return requests.post(IAM, data=form)


def test_iam_answers_a_rejected_key_as_a_key_it_does_not_know(fake_runtime):
    fake_runtime.reject_api_key()

    refusal = _token(fake_runtime.token)

    assert refusal.status_code == 400
    body = refusal.json()
    assert (body["errorCode"], body["errorMessage"]) == (
        "BXNIM0415E",
        "Provided API key could not be found.",
    )
    assert body["context"]["requestType"] == "incoming.Identity_Token"


@needs_client("0.51", "the client lists instances through Global Search, which IAM's refusal stops")
def test_a_rejected_api_key_fails_sign_in(fake_runtime):
    fake_runtime.reject_api_key()

    with pytest.raises(InvalidAccountError, match="Please check that you are using a valid API token"):
        QiskitRuntimeService()


def test_a_rejected_api_key_gets_no_backend_with_any_client(fake_runtime):
    """Clients that skip Global Search (0.40, 0.41 with a CRN) warn and send the key itself as the
    credential; the runtime API refuses it with 401, so they find no backend."""
    fake_runtime.reject_api_key()

    with pytest.raises((InvalidAccountError, QiskitBackendNotFoundError)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "API Key will be used instead"
            QiskitRuntimeService().backend("ibm_fez")
    key_as_credential = {**HEADERS, "Authorization": f"apikey {fake_runtime.token}"}
    assert requests.get(f"{API}/backends", headers=key_as_credential).status_code == 401


def test_only_the_rejected_key_is_refused(fake_runtime):
    fake_runtime.reject_api_key("revoked-key")

    service = QiskitRuntimeService(
        channel="ibm_quantum_platform", token="another-key", instance=fake_runtime.instance
    )

    assert service.backend("ibm_fez").name == "ibm_fez"
    assert _token("revoked-key").status_code == 400


def test_the_runtime_api_refuses_a_token_from_its_expiry_on(fake_runtime):
    bearer = {**HEADERS, "Authorization": "Bearer " + _token(fake_runtime.token).json()["access_token"]}

    fake_runtime.clock.tick(3599.999)
    assert requests.get(f"{API}/backends", headers=bearer).status_code == 200
    fake_runtime.clock.tick(0.001)
    expired = requests.get(f"{API}/backends", headers=bearer)

    assert expired.status_code == 401
    assert expired.json()["errors"][0]["message"].startswith("The access token has expired")


def test_a_bearer_the_fake_did_not_issue_is_not_checked(fake_runtime):
    fake_runtime.clock.tick(10 * 3600)

    reply = requests.get(f"{API}/backends", headers={**HEADERS, "Authorization": "Bearer abc"})

    assert reply.status_code == 200


@pytest.mark.fake_runtime(job_duration=3600)
def test_a_job_longer_than_the_token_lifetime_works_because_the_client_renews_it(fake_runtime, run, backend):
    job = run(backend)

    assert set(job.result()[0].data.meas.get_counts()) == {"00", "11"}  # polled past the token's exp
    assert fake_runtime.clock.now() - fake_runtime.job(job).created >= timedelta(seconds=3600)
