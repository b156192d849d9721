"""Two messages the installed libraries print on every training start that are not the user's business.

Each is silenced where it is raised, by its exact text, so any other warning of the same library still shows:

- bitsandbytes 0.50, when imported on a CPU with AVX512-BF16 (PEFT imports it whenever it is installed, so every
  run does), tries to fetch an optional 4-bit matmul kernel from the Hugging Face Hub through the `kernels` package
  and logs "Failed to load CPU gemm_4bit_forward … No module named 'kernels'" when that package is absent. It then
  uses its own bundled CPU kernel, and the studio never installs `kernels` (it downloads code at run time, which an
  offline workstation cannot). Only that exact cause is dropped: a `kernels` that is installed and fails still says so.
- transformers 5 deprecated `PreTrainedModel.is_gradient_checkpointing` (FutureWarning), and PEFT 0.21 reads it in
  `PeftModel.__init__` (`peft_model.py`), so `get_peft_model` warns on every LoRA run. No argument avoids the read,
  which is harmless (PEFT only asks whether checkpointing is on); the deprecation is PEFT's to follow. Drop this
  filter once the installed PEFT reads `is_activation_checkpointing`.
"""

from __future__ import annotations

import logging
import warnings

BNB_CPU_LOGGER = "bitsandbytes.backends.cpu.ops"
BNB_KERNEL_MESSAGE = "Failed to load CPU gemm_4bit_forward"


def _is_missing_kernels_package(record: logging.LogRecord) -> bool:
    cause = record.args[0] if isinstance(record.args, tuple) and record.args else None
    return (str(record.msg).startswith(BNB_KERNEL_MESSAGE) and isinstance(cause, ModuleNotFoundError)
            and cause.name == "kernels")


class _DropMissingKernels(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _is_missing_kernels_package(record)


def quiet_library_noise() -> None:
    """Install both filters; call before transformers, PEFT or bitsandbytes is imported (idempotent)."""
    logger = logging.getLogger(BNB_CPU_LOGGER)  # the same object bitsandbytes gets when it is imported later
    if not any(isinstance(f, _DropMissingKernels) for f in logger.filters):
        logger.addFilter(_DropMissingKernels())
    warnings.filterwarnings("ignore", message=r"`is_gradient_checkpointing` is deprecated", category=FutureWarning,
                            module=r"transformers\.modeling_utils")
