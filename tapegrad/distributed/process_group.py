"""Process groups on MPI (torch.distributed's setup half): `init_process_group`, ranks, groups.

MPI itself is started only by `init_process_group`: importing tapegrad never loads mpi4py's MPI
module (importing it runs MPI_Init), so plain scripts stay fast and a user's own
`from mpi4py import MPI` keeps mpi4py's defaults. Rank and world size come from MPI; the
rendezvous is done by the launcher (`mpiexec`, or `python -m tapegrad.distributed.run`).
"""
import importlib
import importlib.util
import os
import sys
import time
import traceback

EXTRA = "pip install 'tapegrad[distributed]'"
NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                   "init_process_group.")
BACKENDS = ("mpi", "gloo", "cpu:gloo", "cpu:mpi")
DEBUG_VALUES = ("1", "true", "yes", "info", "detail")
ABORT_GRACE_S = 0.5


class Backend(str):
    """torch.distributed.Backend: the names of the backends (all of tapegrad's run on MPI).

    `Backend(name)` is the string `name` in lower case.
    """

    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"

    def __new__(cls, name):
        return super().__new__(cls, name.lower())


class _World:
    """The default group and what init_process_group set up (one per process)."""

    MPI = None          # the mpi4py.MPI module once initialised
    default = None      # the default ProcessGroup
    debug = False       # TAPEGRAD_DISTRIBUTED_DEBUG: shape headers before collectives
    hook = None         # the sys.excepthook that init_process_group replaced


world = _World()


class ProcessGroup:
    """A set of ranks with its own MPI communicator (`comm` is None on ranks outside it).

    `ranks` are the global ranks of its members, in group-rank order.
    """

    def __init__(self, comm, ranks):
        self.comm, self.ranks = comm, list(ranks)

    def rank(self):
        """This process's rank in the group, -1 if it is not a member."""
        return self.comm.Get_rank() if self.comm is not None else -1

    def size(self):
        """The number of ranks in the group."""
        return len(self.ranks)

    def __repr__(self):
        return f"ProcessGroup(ranks={self.ranks}, backend='mpi')"


class GroupMember:
    """torch.distributed.GroupMember: the default group and the mark of a non-member.

    `WORLD` is the default group (None before `init_process_group`); `NON_GROUP_MEMBER` is what
    `new_group` returns on a rank outside the new group.
    """

    WORLD = None
    NON_GROUP_MEMBER = ProcessGroup(None, ())


def is_available():
    """Whether the MPI backend can run here (mpi4py is installed)."""
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available():
    """torch.distributed.is_mpi_available: the same as `is_available()` here."""
    return is_available()


def is_initialized():
    """Whether `init_process_group` has been called (and not undone)."""
    return world.default is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the job that `mpiexec` started: rank and world size come from MPI.

    `backend` may be None, "mpi" or "gloo" (both run on MPI here; there is no GPU backend).
    `init_method` (env://, tcp://, file://) and `store` are accepted and unused: MPI's launcher
    has already done the rendezvous. `world_size` and `rank`, when given, must match MPI's.
    `timeout`, `group_name`, `pg_options` and `device_id` are accepted and ignored (MPI waits
    without a timeout, the default group needs no name, and there are no GPUs).
    Also installs a `sys.excepthook` that prints the traceback and aborts the whole job, so a
    rank that raises never leaves the others waiting in a collective.
    """
    if backend is not None and str(backend).lower() not in BACKENDS:
        raise ValueError(f"init_process_group: backend '{backend}' is not available; tapegrad "
                         f"runs on MPI: use backend='mpi' (or 'gloo', which maps to it)")
    if not is_available():
        raise RuntimeError("init_process_group: the MPI backend needs mpi4py and an MPI "
                           f"library; install them with: {EXTRA}")
    if world.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    MPI = world.MPI = importlib.import_module("mpi4py.MPI")    # runs MPI_Init (thread level)
    if not MPI.Is_initialized():
        MPI.Init()
    comm = MPI.COMM_WORLD
    size, me = comm.Get_size(), comm.Get_rank()
    if world_size not in (-1, None) and world_size != size:
        raise ValueError(f"init_process_group: world_size={world_size} but the MPI job has "
                         f"{size} processes (set the number with mpiexec -n)")
    if rank not in (-1, None) and rank != me:
        raise ValueError(f"init_process_group: rank={rank} but MPI gave this process rank {me}")
    world.default = GroupMember.WORLD = ProcessGroup(comm.Dup(), range(size))
    world.debug = os.environ.get("TAPEGRAD_DISTRIBUTED_DEBUG", "").lower() in DEBUG_VALUES
    _set_environment(comm, size, me)
    if world.hook is None:
        world.hook, sys.excepthook = sys.excepthook, _abort_on_uncaught


def _set_environment(comm, size, me):
    """RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE as torchrun sets them (if unset)."""
    node = comm.Split_type(world.MPI.COMM_TYPE_SHARED)
    for name, value in (("RANK", me), ("WORLD_SIZE", size), ("LOCAL_RANK", node.Get_rank()),
                        ("LOCAL_WORLD_SIZE", node.Get_size())):
        os.environ.setdefault(name, str(value))
    node.Free()


def _abort_on_uncaught(kind, value, tb):
    """Print the traceback once, then MPI_Abort: mpiexec ends every rank and exits non-zero."""
    if world.MPI is None or world.MPI.COMM_WORLD.Get_size() == 1:
        return (world.hook or sys.__excepthook__)(kind, value, tb)
    try:
        rank = world.MPI.COMM_WORLD.Get_rank()
        sys.stderr.write(f"[tapegrad.distributed] rank {rank} raised; aborting the job\n")
        traceback.print_exception(kind, value, tb)
        sys.stderr.flush()
        # mpiexec forwards a rank's output through a pipe it may stop reading once the abort
        # reaches it: give the traceback a moment to get through first
        time.sleep(ABORT_GRACE_S)
    finally:
        world.MPI.COMM_WORLD.Abort(1)


def destroy_process_group(group=None):
    """Free `group`'s communicator, or with no argument the default group's.

    Freeing the default group (`group` None or the default group itself) undoes
    `init_process_group`, and every group made from it becomes unusable: call
    init_process_group again to start over (MPI itself stays up).
    """
    if world.default is None:
        raise RuntimeError(NOT_INITIALIZED)
    if group is None or group is world.default:
        _free(world.default)
        world.default = GroupMember.WORLD = None
        if world.hook is not None:
            sys.excepthook, world.hook = world.hook, None
    else:
        _free(group)


def _free(group):
    if group.comm is not None:
        group.comm.Free()
        group.comm = None


def default_group():
    """The default group; PyTorch's error if init_process_group was not called."""
    if world.default is None:
        raise RuntimeError(NOT_INITIALIZED)
    return world.default


def resolve(group):
    """`group`, or the default group for None (after checking initialisation)."""
    default = default_group()
    return default if group is None else group


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False):
    """A new process group of the given global ranks (all of them for None).

    `ranks` are distinct global ranks; the group ranks follow their sorted order. Like
    PyTorch's, every process of the default group must call it, members or not; non-members get
    `GroupMember.NON_GROUP_MEMBER`. `timeout`, `backend`, `pg_options` and
    `use_local_synchronization` are accepted and ignored: every group runs on MPI, and creating
    one is always collective over the default group (so the non-members must call it even with
    `use_local_synchronization=True`).
    """
    base = default_group()
    size = base.size()
    ranks = list(range(size)) if ranks is None else sorted(int(r) for r in ranks)
    bad = [r for r in ranks if not 0 <= r < size]
    if bad or len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: ranks must be distinct and in [0, {size - 1}], got {ranks}")
    mpi_group = base.comm.Get_group().Incl(ranks)
    comm = base.comm.Create(mpi_group)     # collective over the default group
    mpi_group.Free()
    if comm == world.MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    return ProcessGroup(comm, ranks)


def get_rank(group=None):
    """This process's rank in `group` (the default group for None); -1 outside it."""
    return resolve(group).rank()


def get_world_size(group=None):
    """The number of processes in `group`; -1 on a rank outside it, as PyTorch's."""
    g = resolve(group)
    return g.size() if g.comm is not None else -1


def get_backend(group=None):
    """The backend name of `group` (the default group for None): always 'mpi'."""
    resolve(group)
    return Backend.MPI


def get_global_rank(group, group_rank):
    """The global rank of `group`'s member `group_rank`."""
    g = resolve(group)
    if not 0 <= group_rank < g.size():
        raise ValueError(f"get_global_rank: group rank {group_rank} is not part of {g}")
    return g.ranks[group_rank]


def get_group_rank(group, global_rank):
    """The rank in `group` of the process with global rank `global_rank`."""
    g = resolve(group)
    if global_rank not in g.ranks:
        raise ValueError(f"get_group_rank: global rank {global_rank} is not part of {g}")
    return g.ranks.index(global_rank)


def debug_enabled():
    """Whether collectives first exchange a shape header (TAPEGRAD_DISTRIBUTED_DEBUG=1)."""
    return world.debug
