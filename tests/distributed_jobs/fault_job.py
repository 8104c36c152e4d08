"""Rank 1 raises while rank 0 waits in a barrier: the job must end, non-zero, within seconds.
Run by tests/test_distributed.py through the launcher."""
import tapegrad.distributed as dist

dist.init_process_group()
if dist.get_rank() == 1:
    raise ValueError("rank one fails on purpose")
dist.barrier()       # never completes: only MPI_Abort ends this rank
print("rank 0 passed the barrier: the job did not abort", flush=True)
