"""What a failure shows: the timeline log, the text chart and the SVG picture."""

from __future__ import annotations

import re
import struct
import zlib
from xml.etree import ElementTree

import pytest
import resvg_py
from freezegun import freeze_time
from qiskit_ibm_runtime import SamplerV2, Session

from conftest import bell
from pytest_qsession.timeline import MARKS, nice_step


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


# -- scales ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at_least", "step"),
    [(2.57812, 5.0), (1.5625e-11, 2e-11), (1.0, 1.0), (0.2, 0.2), (0.21, 0.5), (6.0, 10.0), (120.0, 200.0)],
)
def test_a_nice_step_is_one_two_or_five_times_a_power_of_ten(at_least, step):
    assert nice_step(at_least) == pytest.approx(step)


# -- the text chart ----------------------------------------------------------------------------


def _chart_columns(chart: str) -> tuple[int, float]:
    """Where the time axis starts in each line, and the seconds per column the chart says."""
    header = chart.splitlines()[0]
    seconds = re.search(r"1 col = ([\d.]+) (m?s)", chart)
    step = float(seconds[1]) / (1000 if seconds[2] == "ms" else 1)
    return header.index("+0:00:00"), step


def _row(chart: str, label: str) -> str:
    return next(line for line in chart.splitlines() if line.startswith(label))


def test_close_and_cancel_are_marked_on_the_session_row_at_their_instants(fake_runtime, backend, run):
    kept = Session(backend=backend)
    run(kept), run(kept)
    fake_runtime.clock.tick(3)
    kept.close()                        # at +3 s, while the second job runs until +4 s
    fake_runtime.clock.tick(7)
    dropped = Session(backend=backend)
    run(dropped)
    fake_runtime.clock.tick(1)
    dropped.cancel()                    # at +11 s
    fake_runtime.clock.tick(9)

    chart = fake_runtime.timeline_chart(width=80)

    start, step = _chart_columns(chart)
    assert step == 0.5
    first, second = (_row(chart, f"dedicated {s.session_id[:8]}") for s in (kept, dropped))
    assert first.index("]") - start == 3 / step
    assert second.index("X") - start == 11 / step
    assert "] close()" in chart and "X cancel()" in chart


def test_job_rows_show_status_program_and_tags(fake_runtime, backend, run):
    job = run(backend, environment={"job_tags": ["cobyla", "iteration-3"]})
    job.result()

    chart = fake_runtime.timeline_chart(width=120)

    assert f"job {job.job_id()[:8]} DONE sampler [cobyla, iteration-3]" in chart


@pytest.mark.parametrize("columns", [40, 72, 200])
def test_every_line_fits_the_terminal_width(fake_runtime, backend, run, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    session = Session(backend=backend)
    run(session, environment={"job_tags": ["a-long-tag-name-that-would-not-fit", "another"]})
    fake_runtime.clock.tick(500)

    chart = fake_runtime.timeline_chart()

    assert max(len(line) for line in chart.splitlines()) <= columns
    assert len(chart.splitlines()) >= 5


@pytest.mark.parametrize(
    ("seconds", "scale"),
    [(165, "1 col = 5 s"), (2.0, "1 col = 100 ms"), (28800, "1 col = 1000 s (16 min 40 s)")],
)
def test_the_scale_is_a_nice_step_with_a_readable_label(fake_runtime, backend, run, seconds, scale):
    run(Session(backend=backend))
    fake_runtime.clock.tick(seconds)

    chart = fake_runtime.timeline_chart(width=64)

    assert chart.splitlines()[-1].strip() == f"{scale}, from 2026-01-05 09:00:00.000Z"


# -- the SVG picture ---------------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"
CHAR = 7.2  # px per character of 12 px monospace, as the renderer lays it out


def _svg(fake_runtime, tmp_path) -> ElementTree.Element:
    return ElementTree.parse(fake_runtime.timeline_svg(tmp_path / "timeline.svg")).getroot()


def _extent(element: ElementTree.Element) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a rect, line or text (text by its characters)."""
    a = element.attrib
    if element.tag == f"{SVG}rect":
        x, y = float(a["x"]), float(a["y"])
        return x, y, x + float(a["width"]), y + float(a["height"])
    if element.tag == f"{SVG}line":
        return float(a["x1"]), float(a["y1"]), float(a["x2"]), float(a["y2"])
    x, y, width = float(a["x"]), float(a["y"]), CHAR * len(element.text or "")
    left = {"start": x, "middle": x - width / 2, "end": x - width}[a.get("text-anchor", "start")]
    return left, y - 12, left + width, y


def _busy_scene(fake_runtime, backend, run):
    session = Session(backend=backend)
    for tag in ("cobyla", "nelder-mead", "cobyla"):
        run(session, environment={"job_tags": [tag]})
    fake_runtime.fail_next_job("Injected.")
    run(backend)
    fake_runtime.clock.tick(8)
    session.close()
    fake_runtime.clock.tick(100)
    return session


def _ends_at_the_edge(fake_runtime, backend, run):
    run(Session(backend=backend))
    fake_runtime.clock.tick(2)   # the job's end mark sits on the right edge


@pytest.mark.parametrize("scene", [_busy_scene, _ends_at_the_edge], ids=["busy", "end mark at the edge"])
def test_every_element_of_the_picture_lies_inside_the_canvas(fake_runtime, backend, run, tmp_path, scene):
    scene(fake_runtime, backend, run)   # an 8 h max time falls far beyond the drawn span

    root = _svg(fake_runtime, tmp_path)

    width, height = float(root.attrib["width"]), float(root.attrib["height"])
    outside = [
        (element.tag, element.attrib, element.text)
        for element in root.iter()
        if element.tag in (f"{SVG}rect", f"{SVG}line", f"{SVG}text")
        for left, top, right, bottom in [_extent(element)]
        if left < 0 or top < 0 or right > width or bottom > height
    ]
    assert outside == []
    assert not any((t.text or "").startswith("max time") for t in root.iter(f"{SVG}title"))


def test_the_picture_has_ticks_one_bar_per_busy_stretch_red_errors_and_tags(
    fake_runtime, backend, run, tmp_path
):
    _busy_scene(fake_runtime, backend, run)

    root = _svg(fake_runtime, tmp_path)

    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert [t for t in texts if t and t.startswith("+")] == ["+0:00:00", "+0:00:20", "+0:00:40",
                                                            "+0:01:00", "+0:01:20", "+0:01:40"]
    titles = [element.text for element in root.iter(f"{SVG}title")]
    assert sum(t.startswith("active:") for t in titles) == 1   # three back-to-back jobs, no seams
    (error,) = [e for e in root.iter(f"{SVG}text") if e.text == "E" and e.find(f"{SVG}title") is not None]
    assert error.attrib["fill"] == MARKS["E"][1] != MARKS["D"][1]
    assert any((t or "").endswith("sampler [cobyla]") for t in texts)
    assert "]" in texts   # close() was called


@pytest.mark.fake_runtime(max_time=30)
def test_a_max_time_inside_the_drawn_span_is_marked_at_its_instant(fake_runtime, backend, run, tmp_path):
    run(Session(backend=backend))
    fake_runtime.clock.tick(40)

    root = _svg(fake_runtime, tmp_path)

    (mark,) = [t for t in root.iter(f"{SVG}text") if (t.findtext(f"{SVG}title") or "").startswith("max time")]
    assert mark.text == "!" and mark.findtext(f"{SVG}title") == "max time at 2026-01-05 09:00:30.000Z"
    (tick,) = [t for t in root.iter(f"{SVG}text") if t.text == "+0:00:30"]
    assert mark.attrib["x"] == tick.attrib["x"]


def test_an_empty_picture_says_so_and_its_axis_reads_plus_zero(fake_runtime, tmp_path):
    root = _svg(fake_runtime, tmp_path)

    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert "+0 s" in texts and "(no sessions or jobs)" in texts
    assert not any("e-" in (t or "") for t in texts)


def test_the_picture_renders_to_a_png_of_its_own_size(fake_runtime, backend, run, tmp_path):
    _busy_scene(fake_runtime, backend, run)
    path = fake_runtime.timeline_svg(tmp_path / "timeline.svg")
    root = ElementTree.parse(path).getroot()

    png = bytes(resvg_py.svg_to_bytes(svg_path=str(path)))

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])   # the IHDR chunk
    assert (width, height) == (int(root.attrib["width"]), int(root.attrib["height"]))
    pixels = zlib.decompress(b"".join(_chunks(png, b"IDAT")))
    assert len(set(pixels)) > 8   # bars in several colours, not a blank canvas


def _chunks(png: bytes, kind: bytes) -> list[bytes]:
    chunks, at = [], 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        if png[at + 4 : at + 8] == kind:
            chunks.append(png[at + 8 : at + 8 + length])
        at += 12 + length
    return chunks


def test_long_labels_are_cut_before_the_time_axis(fake_runtime, backend, run, tmp_path):
    run(backend, environment={"job_tags": ["x" * 30, "y" * 30]})
    fake_runtime.clock.tick(5)

    root = _svg(fake_runtime, tmp_path)

    bars = [float(r.attrib["x"]) for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    (label,) = [t for t in root.iter(f"{SVG}text") if (t.text or "").startswith("job ")]
    assert label.text.endswith("…")
    assert _extent(label)[2] < min(bars)
