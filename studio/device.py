"""What hardware the studio runs on, described for the header and the estimators."""

from __future__ import annotations

from dataclasses import dataclass


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
