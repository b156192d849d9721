"""Which process of a multi-process launch this worker is, and the few numbers its processes must agree on.

`accelerate launch` (multi-GPU, DeepSpeed, FSDP) and `torchrun` start one worker per device through torch's elastic
agent, which sets RANK, LOCAL_RANK and WORLD_SIZE before Python starts; MPI launchers set their own names. The
rank is therefore known before torch.distributed is initialised, which happens later, when the Trainer's arguments
first pick a device. Every rank trains; only rank 0 writes the run's files (status, events, card, adapter).

On a machine without GPUs, `accelerate launch --multi_gpu --num_processes N` (or a config with distributed_type
MULTI_GPU) still starts N workers through the agent, and a recipe with runtime.device cpu makes the Trainer join
them with the gloo backend. `accelerate launch --cpu --num_processes N` does not: it starts one process unless an
MPI hostfile is given.
"""

from __future__ import annotations

import os

_RANK = ("RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK")
_LOCAL_RANK = ("LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID")
_WORLD = ("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE")


def _first_int(names: tuple[str, ...], default: int) -> int:
    for name in names:
        value = os.environ.get(name)
        if value not in (None, ""):
            return int(value)
    return default


def rank() -> int:
    """This process's global rank; 0 when not launched as one of several."""
    return _first_int(_RANK, 0)


def local_rank() -> int:
    """This process's index on its machine: the GPU it owns."""
    return _first_int(_LOCAL_RANK, 0)


def world_size() -> int:
    """How many processes train this run together."""
    return _first_int(_WORLD, 1)


def is_main() -> bool:
    return rank() == 0


def all_sum(values: list[float]) -> list[float]:
    """Element-wise sums of `values` over all processes (one all-reduce); `values` itself in a single process.

    Called by every rank at the same point of the loop, like any collective. The tensor lives on the GPU under
    NCCL (which cannot reduce CPU tensors) and on the CPU under gloo.
    """
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return list(values)
    import torch

    device = torch.device("cpu")
    if "nccl" in str(dist.get_backend()):
        device = torch.device("cuda", torch.cuda.current_device())
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def agree_on_step(loss: float | None, stop: bool) -> tuple[float | None, bool]:
    """The optimizer step's loss averaged over processes, and whether any process was asked to stop.

    Each rank sees only its own share of the batch and gets signals at its own moment. Deciding alerts and stops
    on these shared figures makes every rank leave the loop at the same step: a rank that stopped alone would
    leave the others waiting forever in the next gradient all-reduce. A NaN on any rank makes the mean NaN, so
    the NaN alert fires everywhere at once.
    """
    total, counted, stops = all_sum([0.0 if loss is None else loss, 0.0 if loss is None else 1.0, float(stop)])
    return (total / counted if counted else None), stops > 0
