"""Distributed tensors: what a rank holds of a parameter, and whether it counts it.

A parameter of a distributed job is either a ``torch.distributed.tensor.DTensor`` (FSDP2's
``fully_shard``, tensor parallelism: each rank holds a shard, ``to_local()``) or a plain tensor
that every rank holds whole (DDP replicates the module). Statistics of the whole model are
sums over ranks of what each rank *contributes*: its shard along sharded mesh dimensions, and
along replicated ones only when its coordinate there is 0, so that each value is counted once
(a DDP weight by rank 0 only, not world-size times).

Nothing here imports ``torch.distributed.tensor``: a DTensor can only exist once that module
was imported, so single-process use pays one dictionary lookup.
"""

from __future__ import annotations

import sys

import torch

__all__ = ["contribution", "is_dtensor", "local_tensor"]


def is_dtensor(t: torch.Tensor) -> bool:
    """Whether ``t`` is a DTensor (False, without importing anything, when none can exist)."""
    module = sys.modules.get("torch.distributed.tensor")
    return module is not None and isinstance(t, module.DTensor)


def local_tensor(t: torch.Tensor) -> torch.Tensor:
    """The tensor this process holds: a DTensor's local shard, any other tensor itself.

    A DTensor's operators run collectives and refuse to mix with plain tensors (``aten.mul``
    "got mixed torch.Tensor and DTensor"); statistics read the local values instead.
    """
    return t.to_local() if is_dtensor(t) else t


def contribution(t: torch.Tensor, rank: int) -> torch.Tensor | None:
    """The values of ``t`` this rank adds to a whole-model statistic, or None (it adds none).

    DTensor: its local shard when its mesh coordinate is 0 along every ``Replicate``
    placement (a shard of a 2-D HSDP mesh is counted by one replica group only); None
    for a rank outside the mesh. Plain tensor (replicated, as under DDP): ``t`` on rank 0,
    None elsewhere. ``rank`` is the rank in the job's default group.
    """
    if not is_dtensor(t):
        return t if rank == 0 else None
    coordinate = t.device_mesh.get_coordinate()
    if coordinate is None:
        return None
    for dim, placement in enumerate(t.placements):
        if placement.is_replicate() and coordinate[dim] != 0:
            return None
    return t.to_local()
