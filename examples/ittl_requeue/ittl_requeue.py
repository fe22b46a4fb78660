"""An interactive loop that notices when its session lapsed between two jobs.

A session holds the QPU only while jobs keep coming: after the interactive timeout (ITTL, 60 s
by default) with nothing queued or running it goes inactive, and the next job waits in the
normal queue again. This submitter looks at the session before each job and, when it had
lapsed, records how long that job waited, so slow classical steps show up in the logs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from qiskit_ibm_runtime import SamplerV2

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Requeue:
    """A job that went back through the normal queue because the session had lapsed."""

    job_id: str
    queue_wait: float  # seconds from submission to start


class InteractiveSubmitter:
    def __init__(self, session):
        self.session = session
        self.sampler = SamplerV2(mode=session)
        self.requeues: list[Requeue] = []

    def run(self, circuit) -> dict[str, int]:
        """Run one measured circuit in the session; return its counts."""
        lapsed = self.session.details()["state"] == "inactive"  # "open" is the first job: expected
        job = self.sampler.run([circuit])
        counts = job.result()[0].data.meas.get_counts()
        if lapsed:
            stamps = job.metrics()["timestamps"]
            wait = (_instant(stamps["running"]) - _instant(stamps["created"])).total_seconds()
            self.requeues.append(Requeue(job.job_id(), wait))
            log.warning(
                "session %s had gone inactive (interactive timeout); job %s queued %.1f s",
                self.session.session_id, job.job_id(), wait,
            )
        return counts

    @property
    def time_lost(self) -> float:
        """Seconds spent queueing again because the session lapsed."""
        return sum(r.queue_wait for r in self.requeues)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))  # "Z" needs Python 3.11 otherwise
