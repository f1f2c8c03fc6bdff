"""Hostile review of the history-key / history-artifact change: failing tests."""

from __future__ import annotations

from tests.pipeline import Pipeline, sync


def test_a_colliding_second_step_does_not_overwrite_the_first_steps_history(
    pipeline: Pipeline,
) -> None:
    """The second step of one kind under the same name says so and shows no trends, but it
    still keeps its snapshot under the same name (upload overwrite: true), so on the next run
    the FIRST step compares with the SECOND step's figures, with no notice at all."""
    pipeline.run(sync(92, 1300), 8)
    pipeline.run(sync(92, 8000), 8, again=True)  # same job, same kind, same (default) key
    first = pipeline.run(sync(92, 1342), 9)
    assert "::notice" not in first.log
    # first's own previous value was 1,300: a trend against 8,000 is the other step's history
    assert "8,000" not in first.content and "▼" not in first.content, first.content


def test_the_collision_notice_names_the_input_that_fixes_it(pipeline: Pipeline) -> None:
    """history-key exists for exactly this case (README: "give each its own history-key"), but
    the notice still says "give each report step its own job, or set `history: false`"."""
    pipeline.run(sync(92, 1300), 8)
    second = pipeline.run(sync(92, 8000), 8, again=True)
    notices = [line for line in second.log.splitlines() if line.startswith("::notice")]
    assert len(notices) == 1 and "history-key" in notices[0], notices
