"""The alerting promises (docs/alerting.md) as invariants, searched by hypothesis's stateful
testing over random sequences of runs through main(): ok, warning and critical runs, a logged
error, no figures, a stale file, no file, a failed or cancelled job, re-runs of the newest run
and of older ones (up to 8 back), mutes starting and ending mid-problem, a send of unknown
outcome, a refused create, a look-up the GitHub API refuses, and sequences across both clock
changes; `notify-on` problems/changes, `remind-every` 0/1h/4h, `alert-after` 1/2, `report`
sync/auto, `mention` on problems. A counter-example is shrunk to the shortest sequence that
breaks a promise.
`benchmarks.alerting` plays 10,000 such sequences and counts, per promise, how often it applied."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.fake_github import fake_actions
from tests.helpers import ScriptedEcho, running
from tests.sequences import KINDS, STARTS, Sequence, Settings, Step

SETTINGS = st.builds(
    Settings,
    notify_on=st.sampled_from(["problems", "changes"]),
    remind_every=st.sampled_from([0, 1, 4]),
    alert_after=st.sampled_from([1, 2]),
    start=st.integers(0, len(STARTS) - 1),
    report=st.sampled_from(["sync", "sync", "auto"]),
)
STEPS = st.builds(
    Step,
    kind=st.sampled_from(KINDS),
    which=st.sampled_from(["new", "new", "new", "new", "newest", "older"]),
    fault=st.sampled_from(["none", "none", "none", "none", "unknown", "refused"]),
    minutes=st.sampled_from([30, 30, 30, 60, 90]),
    mute_hours=st.sampled_from([0] * 12 + [1, 3]),
    back=st.integers(1, 8),
    blind=st.sampled_from([False] * 9 + [True]),
)


class Runs(RuleBasedStateMachine):
    """One sequence: Echo on loopback, the fake GitHub API, a fresh folder."""

    def __init__(self) -> None:
        super().__init__()
        self.stack = ExitStack()
        self.tmp = Path(tempfile.mkdtemp(prefix="echo-notify-seq-"))
        self.echo = self.stack.enter_context(running(ScriptedEcho()))
        self.actions = self.stack.enter_context(fake_actions())
        self.sequence: Sequence | None = None

    @initialize(alerting=SETTINGS)
    def start(self, alerting: Settings) -> None:
        self.sequence = Sequence(self.tmp, self.echo, self.actions, alerting)

    @rule(step=STEPS)
    def run(self, step: Step) -> None:
        assert self.sequence is not None
        self.sequence.play(step)

    @invariant()
    def every_promise_kept(self) -> None:
        if self.sequence is not None:
            assert not self.sequence.tally.violations, self.sequence.tally.violations

    def teardown(self) -> None:
        self.stack.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


Runs.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=20,
    deadline=None,
    derandomize=True,  # a fixed seed: the same sequences on every machine
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
test_alerting_promises = Runs.TestCase
