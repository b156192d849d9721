"""What hardware the studio runs on, described for the header and the estimators."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

GIB = 1024 ** 3  # bytes


@dataclass(frozen=True)
class DeviceInfo:
    kind: str  # "cuda" or "cpu"
    name: str
    total_gib: float | None  # GPU memory of device 0 in GiB; None on the CPU
    count: int

    def label(self) -> str:
        if self.kind == "cpu":
            return "CPU only"
        more = f" ×{self.count}" if self.count > 1 else ""
        return f"{self.name}{more} · {self.total_gib:.1f} GiB"


def detect_device() -> DeviceInfo:
    import torch  # imported here so that importing the studio stays cheap

    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return DeviceInfo("cuda", props.name, props.total_memory / 2**30, torch.cuda.device_count())
    return DeviceInfo("cpu", "CPU", None, 0)


@dataclass(frozen=True)
class SystemMemory:
    """This machine's RAM in GiB: all of it, and what a new process could take now without swapping."""

    total_gib: float
    available_gib: float


def system_memory(meminfo: Path = Path("/proc/meminfo")) -> SystemMemory:
    """RAM now, read at each call (what is available changes while other programs run).

    Linux's MemAvailable counts reclaimable page cache as available, as the kernel would hand it out; where there
    is no /proc/meminfo, free physical pages are the (lower) stand-in.
    """
    try:
        fields = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in meminfo.read_text().splitlines()
                  if line.split(":")[0] in ("MemTotal", "MemAvailable")}
        return SystemMemory(fields["MemTotal"] / GIB, fields["MemAvailable"] / GIB)
    except (OSError, KeyError, IndexError, ValueError):
        page = os.sysconf("SC_PAGE_SIZE")
        return SystemMemory(os.sysconf("SC_PHYS_PAGES") * page / GIB, os.sysconf("SC_AVPHYS_PAGES") * page / GIB)
