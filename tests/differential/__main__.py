"""Long runs: `python -m tests.differential --programs 20000 --seed S [--avoid-known] [--out F]`."""
import argparse
import collections
import random
import sys
import time

import tapegrad
import torch

from tests.differential import compare, generate, shrink
from tests.differential.runner import report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--programs", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-stmts", type=int, default=8)
    p.add_argument("--avoid-known", action="store_true", help="skip the tags in test_differential.KNOWN")
    p.add_argument("--show", type=int, default=3, help="shrunk repros printed per class")
    p.add_argument("--out", help="also write every shrunk repro to this file")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    avoid = frozenset()
    if args.avoid_known:
        from tests.test_differential import KNOWN
        avoid = frozenset(KNOWN)
    classes = collections.defaultdict(list)
    t0, failed = time.time(), 0
    out = open(args.out, "w") if args.out else None
    for n in range(args.programs):
        seed = args.seed * 1_000_003 + n
        prog = generate(random.Random(seed), torch, avoid, args.max_stmts, seed=seed)
        ds = compare(prog, tapegrad, torch)
        if not ds:
            continue
        failed += 1
        small = shrink(prog, tapegrad, torch)
        ds2 = compare(small, tapegrad, torch) or ds
        key = (ds2[0].kind, _culprit_tags(small, ds2[0]))
        classes[key].append(report(prog, ds2, small))
        if out:
            out.write(report(prog, ds2, small) + "\n\n")
            out.flush()
    print(f"{args.programs} programs, {failed} disagreeing, {len(classes)} classes, "
          f"{time.time() - t0:.0f} s")
    for key, reps in sorted(classes.items(), key=lambda kv: -len(kv[1])):
        print(f"\n===== {len(reps)} x {key}")
        for r in sorted(reps, key=len)[: args.show]:
            print(r, "\n")
    return 1 if failed else 0


def _culprit_tags(program, d):
    """A coarse class key: the tags of the statement that raised, else of the last one before
    the loss (shrinking leaves the culprit last)."""
    stmts = [s for s in program.stmts if "backward" not in s.tags] or program.stmts
    if d.name.startswith("stmt "):
        stmts = program.stmts[: int(d.name.split()[1]) + 1]
    tags = stmts[-1].tags - {"input", "raises"}
    return tuple(sorted(tags))


if __name__ == "__main__":
    sys.exit(main())
