"""What a failure shows: the timeline log, the text chart and the SVG picture."""

from __future__ import annotations

from freezegun import freeze_time
from qiskit_ibm_runtime import SamplerV2, Session

from conftest import bell


def test_a_clock_sent_back_behind_the_platform_is_a_timeline_line_not_a_silent_no_op(fake_runtime, isa):
    backend = fake_runtime.service().backend("ibm_sherbrooke")
    session = Session(backend=backend)
    SamplerV2(mode=session).run([isa(bell(), backend)]).result()   # the platform is at +0:00:02

    with freeze_time("2026-01-05 08:00:00") as frozen:           # an hour before the platform
        frozen.tick(120)
        assert session.details()["state"] == "active"            # the ITTL did not pass

    log = fake_runtime.timeline()
    assert log.count("the test's clock is back at") == 1
    assert log.splitlines()[-1] == (
        "+0:00:02.000  2026-01-05 09:00:02.000Z  the test's clock is back at 2026-01-05 08:02:00Z, "
        "behind this instant: the platform's time never runs back, so sessions and jobs stay here "
        "until the clock passes it"
    )
