"""The launcher: `python -m tapegrad.distributed.run -n 4 train.py --lr 0.1` runs
`mpiexec -n 4 <this python> train.py --lr 0.1` (as torchrun wraps PyTorch's launch) and exits
with mpiexec's status, so a rank that raised makes the launch fail.

`-m module` runs a module instead of a script; `--nproc-per-node` (torchrun's spelling) is the
same as `-n`; `--mpiexec PATH` picks the MPI launcher (default: the one next to this Python,
which `pip install mpich` puts there, else the first on PATH). Arguments after the script go
to the script untouched.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys

from .process_group import EXTRA


def find_mpiexec():
    """The mpiexec next to this Python (pip's mpich), else the first on PATH, else None."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    return shutil.which("mpiexec")


def parse(argv):
    """The launcher's options and the command to run on every rank."""
    parser = argparse.ArgumentParser(
        prog="python -m tapegrad.distributed.run",
        description="Run a training script on N processes with MPI (a torchrun for tapegrad).")
    parser.add_argument("-n", "--nproc-per-node", "--nproc_per_node", dest="n", type=int,
                        default=1, help="number of processes (ranks) to start")
    parser.add_argument("--mpiexec", default=None, help="the MPI launcher to use")
    parser.add_argument("-m", dest="module", action="store_true",
                        help="run the target as a module (python -m)")
    parser.add_argument("target", help="the script (or, with -m, the module) to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    options = parser.parse_args(argv)
    if options.n < 1:
        parser.error(f"-n must be at least 1, got {options.n}")
    return options


def command(options, mpiexec):
    """The mpiexec command line for `options`."""
    run = [sys.executable] + (["-m"] if options.module else []) + [options.target]
    return [mpiexec, "-n", str(options.n)] + run + list(options.args)


def main(argv=None):
    """Launch; return mpiexec's exit status (non-zero if any rank failed)."""
    options = parse(sys.argv[1:] if argv is None else argv)
    mpiexec = options.mpiexec or find_mpiexec()
    if mpiexec is None:
        sys.stderr.write("tapegrad.distributed.run: no mpiexec found next to this Python nor "
                         f"on PATH; install one with: {EXTRA}\n")
        return 127
    process = subprocess.Popen(command(options, mpiexec))
    try:
        return process.wait()
    except KeyboardInterrupt:       # pass Ctrl-C on to mpiexec, which ends the ranks
        process.send_signal(signal.SIGINT)
        return process.wait()


if __name__ == "__main__":
    sys.exit(main())
