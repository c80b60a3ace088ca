"""Choose the compute device: CUDA, then Apple MPS, then CPU."""

from __future__ import annotations

import os

import torch


def get_device(prefer: str | None = None) -> torch.device:
    """Return the best available :class:`torch.device`.

    The order is CUDA, then Apple MPS, then CPU. ``prefer`` (or the environment variable
    ``COURSE_DEVICE``) forces a device, e.g. ``"cpu"`` to compare timings.

    Raises:
        RuntimeError: if the forced device is not available on this machine.
    """
    choice = prefer or os.environ.get("COURSE_DEVICE") or None
    if choice:
        device = torch.device(choice)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                f"Device {choice!r} was requested but CUDA is not available here; "
                "unset COURSE_DEVICE or ask for 'cpu'."
            )
        if device.type == "mps" and not _mps_available():
            raise RuntimeError(
                f"Device {choice!r} was requested but Apple MPS is not available here; "
                "unset COURSE_DEVICE or ask for 'cpu'."
            )
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def describe_device(device: torch.device | None = None) -> str:
    """Return (and print) one line saying which device is used and how.

    Example: ``Using cpu (x86_64 CPU), torch 2.13.0, 2 threads``.
    """
    device = device or get_device()
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        name = torch.cuda.get_device_name(index)
    elif device.type == "mps":
        name = "Apple GPU (Metal)"
    else:
        import platform

        name = f"{platform.machine() or 'unknown'} CPU"
    line = (
        f"Using {device.type} ({name}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    print(line)
    return line
