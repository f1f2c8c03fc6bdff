"""The alerting promises over many random sequences of runs through ``main()``.

    .venv/bin/python -m benchmarks.alerting [--sequences 10000] [--seed 7] [--jobs 2]

Each sequence draws its settings (`notify-on` problems/changes, `remind-every` 0/1h/4h,
`alert-after` 1/2, `report` sync/auto, a start on an ordinary day or before a clock change)
and 10 to 40 runs (ok, warning, critical, a logged error, no figures, a stale file, no file, a
failed or cancelled job; new runs and re-runs of the newest or an older run; mutes; sends of
unknown outcome, refused creates, look-ups the API refuses), played through main() as
tests/sequences.py plays them. Prints, per promise, how
many sequences exercised it and how many violated it, and the first counter-examples.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tests.fake_github import fake_actions
from tests.helpers import ScriptedEcho, running
from tests.sequences import (
    KINDS,
    PROMISES,
    STARTS,
    Fault_,
    Sequence,
    Settings,
    Step,
    Which,
    describe,
)


def draw(rng: random.Random) -> tuple[Settings, list[Step]]:
    settings = Settings(
        notify_on=rng.choice(["problems", "changes"]),
        remind_every=rng.choice([0, 1, 4]),
        alert_after=rng.choice([1, 2]),
        start=rng.randrange(len(STARTS)),
        report=rng.choice(["sync", "sync", "auto"]),
    )
    whiches: list[Which] = ["new"] * 8 + ["newest", "older"]
    faults: list[Fault_] = ["none"] * 10 + ["unknown", "refused"]
    calm = rng.random() < 0.5  # half the sequences mostly good, with problem spells
    steps = [
        Step(
            kind=rng.choice(["ok"] * 4 + list(KINDS)) if calm else rng.choice(KINDS),
            which=rng.choice(whiches),
            fault=rng.choice(faults),
            minutes=rng.choice([30, 30, 30, 60, 90]),
            mute_hours=rng.choice([0] * 14 + [1, 3]),
            back=rng.randint(1, 8),
            blind=rng.random() < 0.08,
        )
        for _ in range(rng.randint(10, 40))
    ]
    return settings, steps


def play(seeds: list[int]) -> tuple[Counter[str], Counter[str], int, list[str]]:
    """Plays one sequence per seed; per promise the sequences that exercised and violated it."""
    exercised: Counter[str] = Counter()
    violated: Counter[str] = Counter()
    runs, examples = 0, []
    with running(ScriptedEcho()) as echo, fake_actions() as actions:
        for seed in seeds:
            settings, steps = draw(random.Random(seed))
            echo.store.requests.clear()
            actions.workflows[0].runs.clear()
            with tempfile.TemporaryDirectory() as tmp:
                sequence = Sequence(Path(tmp), echo, actions, settings)
                for step in steps:
                    sequence.play(step)
            runs += len(steps)
            exercised.update(set(sequence.tally.exercised))
            broken = {v.split(" at run")[0] for v in sequence.tally.violations}
            violated.update(broken)
            if broken and len(examples) < 3:
                examples.append(
                    f"seed {seed}: {sequence.tally.violations[:3]} {describe(settings, steps)}"
                )
    return exercised, violated, runs, examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sequences", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    seeds = [args.seed * 1_000_003 + i for i in range(args.sequences)]
    chunks = [seeds[i : i + 50] for i in range(0, len(seeds), 50)]
    start = time.perf_counter()
    exercised: Counter[str] = Counter()
    violated: Counter[str] = Counter()
    runs, examples, done = 0, [], 0
    with ProcessPoolExecutor(args.jobs) as pool:
        for e, v, r, x in pool.map(play, chunks):
            exercised += e
            violated += v
            runs += r
            examples += x
            done += 50
            if done % 1000 == 0 and done < args.sequences:  # a long run shows it is alive
                print(f"… {done} sequences, {sum(violated.values())} violations", flush=True)
    took = time.perf_counter() - start
    print(
        f"{args.sequences} sequences, {runs} runs through main() in {took:.0f} s (seed {args.seed})"
    )
    print(f"{'promise':<28} {'exercised':>10} {'violated':>9}")
    for name in PROMISES:
        print(f"{name:<28} {exercised[name]:>10} {violated[name]:>9}")
    for example in examples[:5]:
        print(example)


if __name__ == "__main__":
    main()
