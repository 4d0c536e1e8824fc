"""Mutation runner: plants each plausible bug of `catalogue.yml` in turn and runs the tests meant
to catch it.

A mutation replaces one exact piece of text in one file (it must occur exactly once, so the
catalogue cannot silently go stale when the code moves), runs its tests, and puts the file back
byte for byte, also on Ctrl-C. A mutation is caught when its tests fail; it survives when they
pass. Prints the score and the survivors; exits 1 when the score is below --min-score.

    .venv/bin/python tests/mutation/run.py              # the whole catalogue (about an hour)
    .venv/bin/python tests/mutation/run.py --only dedup_window_24h --only gap_strict
    .venv/bin/python tests/mutation/run.py --list
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = Path(__file__).with_name("catalogue.yml")


@dataclass(frozen=True)
class Mutation:
    id: str
    file: str
    find: str
    replace: str
    why: str
    tests: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    mutation: Mutation
    caught: bool
    seconds: float
    detail: str


def load_catalogue(path: Path = CATALOGUE) -> list[Mutation]:
    entries = yaml.safe_load(path.read_text())["mutations"]
    mutations = [
        Mutation(e["id"], e["file"], e["find"], e["replace"], e["why"], tuple(e["tests"]))
        for e in entries
    ]
    ids = [m.id for m in mutations]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise SystemExit(f"catalogue: ids used twice: {', '.join(duplicated)}")
    return mutations


def stale(mutation: Mutation) -> str | None:
    """Why the mutation cannot be applied as written, or None."""
    path = ROOT / mutation.file
    if not path.is_file():
        return f"{mutation.file} does not exist"
    count = path.read_text().count(mutation.find)
    if count != 1:
        return f"its text occurs {count} times in {mutation.file} (must be exactly once)"
    if mutation.find == mutation.replace:
        return "find and replace are the same"
    return None


def run_one(mutation: Mutation, python: str, timeout: int) -> Outcome:
    path = ROOT / mutation.file
    original = path.read_bytes()
    started = time.monotonic()
    try:
        path.write_text(original.decode().replace(mutation.find, mutation.replace, 1))
        ran = subprocess.run(
            [python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *mutation.tests],
            cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        return Outcome(mutation, False, time.monotonic() - started, f"tests ran over {timeout} s")
    finally:
        path.write_bytes(original)
    seconds = time.monotonic() - started
    last = (ran.stdout.strip().splitlines() or ["(no output)"])[-1]
    if ran.returncode == 5:  # pytest: no test collected, so nothing could catch it
        return Outcome(mutation, False, seconds, "no test collected: fix the catalogue's tests")
    return Outcome(mutation, ran.returncode != 0, seconds, last)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", default=[], metavar="ID", help="run these mutations only")
    parser.add_argument("--list", action="store_true", help="list the catalogue and exit")
    parser.add_argument("--min-score", type=float, default=0.90, help="exit 1 below this share caught")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per mutation's tests")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs pytest")
    args = parser.parse_args(argv)

    mutations = load_catalogue()
    if args.only:
        unknown = sorted(set(args.only) - {m.id for m in mutations})
        if unknown:
            parser.error(f"no mutation named {', '.join(unknown)} (see --list)")
        mutations = [m for m in mutations if m.id in args.only]
    if args.list:
        for m in mutations:
            print(f"{m.id:40} {m.file}: {m.why}")
        return 0

    problems = [(m, why) for m in mutations if (why := stale(m))]
    for m, why in problems:
        print(f"STALE {m.id}: {why}")
    if problems:
        return 2

    outcomes: list[Outcome] = []
    for i, mutation in enumerate(mutations, 1):
        outcome = run_one(mutation, args.python, args.timeout)
        outcomes.append(outcome)
        verdict = "caught  " if outcome.caught else "SURVIVED"
        print(f"[{i:>2}/{len(mutations)}] {verdict} {mutation.id} ({outcome.seconds:.0f} s): {outcome.detail}",
              flush=True)

    caught = sum(o.caught for o in outcomes)
    score = caught / len(outcomes) if outcomes else 0.0
    print(f"\nmutation score: {caught} of {len(outcomes)} caught ({score:.0%})")
    survivors = [o for o in outcomes if not o.caught]
    for o in survivors:
        print(f"  survived: {o.mutation.id} — {o.mutation.why} ({o.mutation.file})")
    return 0 if score >= args.min_score else 1


if __name__ == "__main__":
    sys.exit(main())
