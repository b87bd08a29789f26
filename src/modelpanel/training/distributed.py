"""Combining what the ranks of a torch.distributed job measured, over the job's own process group.

Used by a panel's worker role (``panel/job.py``) at refresh time only, never per step. Every
function here is a collective: every rank must call it at the same point, in the same order.

- :class:`JobGroup`: the panel's own group over all ranks, on the job's backend (gloo on CPU,
  NCCL on GPUs), made once with a timeout (``torch.distributed.new_group(timeout=...)``), so a
  rank that stopped answering makes the others raise instead of waiting forever.
- :func:`combine_metrics`: the mean over ranks of each logged point, and each rank's latest.
- :func:`job_grad_norms`: per-layer and global L2 gradient norms, as if computed on the full
  gradients: square norms of each rank's contribution (an FSDP shard; a DDP gradient, the same
  on every rank after its all-reduce, from rank 0 only), summed over ranks, square-rooted.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

import numpy as np
import torch

from .._core.sharding import contribution
from .._core.walk import owned_tensors, unwrap, walk_modules
from ..errors import ModelPanelError, format_exception
from .diagnostics import _norms

__all__ = ["JobGroup", "combine_metrics", "job_grad_norms"]


class JobGroup:
    """This rank's view of the job: rank, world size, backend, and the panel's collectives.

    Call in every rank at the same point (``new_group`` is itself a collective). ``timeout``:
    seconds any of the panel's collectives may wait for the other ranks before raising
    :class:`~modelpanel.errors.ModelPanelError`.
    """

    def __init__(self, timeout: float) -> None:
        import torch.distributed as dist

        self._dist = dist
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self.backend = str(dist.get_backend())
        self.timeout = timeout
        self.group = dist.new_group(timeout=datetime.timedelta(seconds=timeout))
        # NCCL reduces tensors on the rank's current GPU; gloo on the CPU.
        self.device = (torch.device("cuda", torch.cuda.current_device())
                       if self.backend == "nccl" else torch.device("cpu"))

    def _failed(self, what: str, exc: BaseException) -> ModelPanelError:
        return ModelPanelError(
            f"rank {self.rank}: the panel's {what} over the job's process group failed "
            f"({format_exception(exc)}). Another rank stopped, or the ranks do not run the same "
            f"loop: every rank must call panel.progress and panel.log the same number of times."
        )

    def all_reduce(self, values: np.ndarray, op: str) -> np.ndarray:
        """float64 ``values`` reduced elementwise over the ranks: ``op`` "sum" or "min"."""
        t = torch.as_tensor(np.ascontiguousarray(values, np.float64), device=self.device).clone()
        reduce_op = self._dist.ReduceOp.SUM if op == "sum" else self._dist.ReduceOp.MIN
        try:
            self._dist.all_reduce(t, op=reduce_op, group=self.group)
        except Exception as exc:  # noqa: BLE001 - reraised with who and why
            raise self._failed("all_reduce", exc) from exc
        return t.cpu().numpy()

    def all_gather(self, row: np.ndarray) -> np.ndarray:
        """float64 ``[world_size, k]``: every rank's ``row`` (length ``k``, the same on all)."""
        t = torch.as_tensor(np.ascontiguousarray(row, np.float64), device=self.device)
        out = [torch.empty_like(t) for _ in range(self.world_size)]
        try:
            self._dist.all_gather(out, t, group=self.group)
        except Exception as exc:  # noqa: BLE001 - reraised with who and why
            raise self._failed("all_gather", exc) from exc
        return torch.stack(out).cpu().numpy()

    def gather_object(self, obj: Any) -> list[Any] | None:
        """Every rank's picklable ``obj`` on rank 0 (a list by rank); None on the others."""
        out: list[Any] | None = [None] * self.world_size if self.rank == 0 else None
        try:
            self._dist.gather_object(obj, out, dst=0, group=self.group)
        except Exception as exc:  # noqa: BLE001 - reraised with who and why
            raise self._failed("gather_object", exc) from exc
        return out


def combine_metrics(per_rank: list[dict[tuple[str, bool], tuple[list[float], list[float]]]]
                    ) -> tuple[dict[tuple[str, bool], tuple[list[float], list[float]]],
                               dict[str, list[float | None]]]:
    """The mean over ranks of each (metric, step) point, and each rank's latest value.

    ``per_rank[r]``: ``{(name, epoch_level): (steps, values)}`` new on rank ``r``. A point
    only some ranks logged is the mean of those. Returns ``({key: (steps, means)}, {name:
    [latest of rank 0, of rank 1, ...]})`` (None: that rank logged none of it this time).
    """
    combined: dict[tuple[str, bool], tuple[list[float], list[float]]] = {}
    latest: dict[str, list[float | None]] = {}
    keys = list(dict.fromkeys(k for points in per_rank for k in points))
    for key in keys:
        at: dict[float, list[float]] = {}
        for r, points in enumerate(per_rank):
            xs, ys = points.get(key, ([], []))
            for x, y in zip(xs, ys):
                at.setdefault(x, []).append(y)
            if ys:
                latest.setdefault(key[0], [None] * len(per_rank))[r] = ys[-1]
        steps = sorted(at)
        combined[key] = (steps, [math.fsum(at[x]) / len(at[x]) for x in steps])
    return combined, latest


def job_grad_norms(model: torch.nn.Module, group: JobGroup) -> tuple[dict[str, float | None], float | None, str | None]:
    """Per-layer L2 gradient norms of the whole job, the global norm, the first non-finite layer.

    Returns ``({tree_path: norm}, global_norm, first_nonfinite_path)``: ``global_norm`` is
    ``torch.nn.utils.clip_grad_norm_``'s total norm of the full gradients (None when no
    parameter has a gradient); a non-finite norm reads None. Every rank must hold the same
    parameters with gradients (SPMD), as DDP and FSDP ensure.
    """
    owners, grads = owned_tensors(walk_modules(unwrap(model, who="modelpanel.training.distributed")), grads=True)
    parts = [contribution(g, group.rank) for g in grads]
    norms = _norms([torch.zeros((), device=g.device) if p is None or p.numel() == 0 else p
                    for g, p in zip(grads, parts)])
    paths = list(dict.fromkeys(owners))
    index = {path: i for i, path in enumerate(paths)}
    squares = np.zeros(len(paths) + 1, np.float64)  # the last: a flag that some rank has grads
    for owner, norm in zip(owners, norms):
        squares[index[owner]] += norm * norm
    squares[-1] = 1.0 if grads else 0.0
    summed = group.all_reduce(squares, "sum")
    if summed[-1] == 0:
        return {}, None, None
    per_layer = {path: math.sqrt(s) if math.isfinite(s) else None for path, s in zip(paths, summed[:-1])}
    first_bad = next((p for p, v in per_layer.items() if v is None), None)
    total = float(summed[:-1].sum())
    return per_layer, math.sqrt(total) if math.isfinite(total) else None, first_bad
