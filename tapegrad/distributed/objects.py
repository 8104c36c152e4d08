"""Collectives on picklable Python objects (torch.distributed's *_object functions), on MPI's
pickle-based lowercase calls. Like PyTorch's, they unpickle what other ranks send: use them only
between processes of your own job."""
from .process_group import resolve
from .collectives import peer_rank, default_root


def _member(group):
    g = resolve(group)
    return g if g.comm is not None else None


def _check_list(object_list, count, where, name):
    if not isinstance(object_list, list) or len(object_list) != count:
        got = len(object_list) if isinstance(object_list, list) else type(object_list).__name__
        raise ValueError(f"{where}: {name} must be a list of world_size ({count}) elements, "
                         f"got {got}")


def all_gather_object(object_list, obj, group=None):
    """Fill object_list[i] with rank i's `obj` on every rank.

    `object_list` must be a list of world_size elements (they are replaced); `obj` must be
    picklable.
    `group` is the process group to run on (None: the default group); on a rank outside it
    the call does nothing.
    """
    g = _member(group)
    if g is None:
        return
    _check_list(object_list, g.size(), "all_gather_object", "object_list")
    object_list[:] = g.comm.allgather(obj)


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replace the elements of `object_list` on every rank with those of global rank `src`.

    Every rank passes a list of the same length. The source is `src` (a global rank) or
    `group_src` (a rank within `group`), at most one of them; with neither it is global rank 0.
    `device` is accepted and ignored (objects travel pickled, never through a device).
    `group` is the process group to run on (None: the default group); on a rank outside it
    the call does nothing.
    """
    g = _member(group)
    if g is None:
        return
    root = peer_rank(g, default_root(src, group_src), "src", "broadcast_object_list", group_src)
    got = g.comm.bcast(list(object_list), root=root)
    if len(got) != len(object_list):
        raise ValueError(f"broadcast_object_list: rank {g.ranks[root]} sent {len(got)} objects "
                         f"but this rank's list has {len(object_list)}")
    object_list[:] = got


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """Collect every rank's `obj` into `object_gather_list` on global rank `dst`.

    `object_gather_list` (a list of world_size elements, replaced) is needed on the destination
    only. The destination is `dst` (a global rank) or `group_dst` (a rank within `group`), at
    most one of them; with neither it is global rank 0.
    `group` is the process group to run on (None: the default group); on a rank outside it
    the call does nothing.
    """
    g = _member(group)
    if g is None:
        return
    root = peer_rank(g, default_root(dst, group_dst), "dst", "gather_object", group_dst)
    if g.rank() == root:
        _check_list(object_gather_list, g.size(), "gather_object", "object_gather_list")
    got = g.comm.gather(obj, root=root)
    if got is not None:
        object_gather_list[:] = got


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None,
                        group=None, group_src=None):
    """Give rank i the object scatter_object_input_list[i] of global rank `src`.

    It lands in `scatter_object_output_list[0]` (a list of at least one element) on rank i;
    `scatter_object_input_list` (world_size picklable objects) is needed on the source only.
    The source is `src` (a global rank) or `group_src` (a rank within `group`), at most one of
    them; with neither it is global rank 0.
    `group` is the process group to run on (None: the default group); on a rank outside it
    the call does nothing.
    """
    g = _member(group)
    if g is None:
        return
    root = peer_rank(g, default_root(src, group_src), "src", "scatter_object_list", group_src)
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError("scatter_object_list: Expected argument scatter_object_output_list to "
                         "be a list of size at least 1.")
    if g.rank() == root:
        _check_list(scatter_object_input_list, g.size(), "scatter_object_list",
                    "scatter_object_input_list")
    scatter_object_output_list[0] = g.comm.scatter(
        scatter_object_input_list if g.rank() == root else None, root=root)
