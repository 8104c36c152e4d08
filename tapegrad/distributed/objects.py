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
    """Fill object_list[i] with rank i's `obj` on every rank."""
    g = _member(group)
    if g is None:
        return
    _check_list(object_list, g.size(), "all_gather_object", "object_list")
    object_list[:] = g.comm.allgather(obj)


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replace the elements of `object_list` on every rank with those of global rank `src`."""
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
    """Collect every rank's `obj` into `object_gather_list` on global rank `dst`."""
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
    """Put scatter_object_input_list[i] of global rank `src` into
    scatter_object_output_list[0] on rank i."""
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
