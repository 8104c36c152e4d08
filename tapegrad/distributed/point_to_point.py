"""torch.distributed's point-to-point messages on MPI: send and receive one tensor between two
ranks, blocking or not (the collectives are in collectives.py)."""
from .collectives import Work, _Wire, _member, peer_rank
from .process_group import world


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Start sending `tensor` to global rank `dst`; returns a Work to wait on.

    Give exactly one of `dst` (a global rank) and `group_dst` (the same rank counted within
    `group`, the process group: None for the default group). `tag` labels the message: the
    receiver's `tag` must be the same. On a rank outside `group` this returns None.
    """
    g = _member(group)
    if g is None:
        return None
    wire = _Wire(tensor, "isend")
    dest = peer_rank(g, dst, "dst", "isend", group_dst)
    return Work(g.comm.Isend(wire.array, dest=dest, tag=tag))


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Start receiving into `tensor` from global rank `src`; returns a Work to wait on.

    The sender is `src` (a global rank) or `group_src` (a rank within `group`, the process
    group: None for the default group), at most one of them; with neither, any rank. `tag`
    must match the sender's. On a rank outside `group` this returns None.
    """
    g = _member(group)
    if g is None:
        return None
    wire = _Wire(tensor, "irecv")
    source = (world.MPI.ANY_SOURCE if src is None and group_src is None
              else peer_rank(g, src, "src", "irecv", group_src))
    request = g.comm.Irecv(wire.array, source=source, tag=tag)
    return Work(request, wire.land, [tensor])


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send `tensor` to global rank `dst` (returns once the buffer may be reused).

    Give exactly one of `dst` (a global rank) and `group_dst` (the same rank counted within
    `group`, the process group: None for the default group). `tag` labels the message: the
    receiver's `tag` must be the same. On a rank outside `group` this does nothing.
    """
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into `tensor` from global rank `src`; returns the sender's global rank.

    The sender is `src` (a global rank) or `group_src` (a rank within `group`, the process
    group: None for the default group), at most one of them; with neither, any rank. `tag`
    must match the sender's. On a rank outside `group` this does nothing and returns -1.
    """
    g = _member(group)
    if g is None:
        return -1
    wire = _Wire(tensor, "recv")
    status = world.MPI.Status()
    source = (world.MPI.ANY_SOURCE if src is None and group_src is None
              else peer_rank(g, src, "src", "recv", group_src))
    g.comm.Recv(wire.array, source=source, tag=tag, status=status)
    wire.land()
    return g.ranks[status.Get_source()]
