"""torch.distributed on MPI: process groups, collectives on tensors and objects.

Launch with `mpiexec -n 4 python train.py` or `python -m tapegrad.distributed.run -n 4
train.py`, then call `init_process_group()`. Importing this package does not start MPI (see
group.py); without mpi4py, `is_available()` is False and `init_process_group` says what to
install.
"""
from .process_group import (Backend, GroupMember, ProcessGroup, is_available,  # noqa: F401
                            is_mpi_available, is_initialized, init_process_group,
                            destroy_process_group, new_group, get_rank, get_world_size,
                            get_backend, get_global_rank, get_group_rank)
from .collectives import (ReduceOp, Work, all_reduce, broadcast, reduce, all_gather,  # noqa
                          all_gather_into_tensor, reduce_scatter_tensor, gather, scatter,
                          barrier)
from .point_to_point import send, recv, isend, irecv  # noqa: F401
from .objects import (all_gather_object, broadcast_object_list, gather_object,  # noqa: F401
                      scatter_object_list)

group = GroupMember       # torch.distributed.group.WORLD
