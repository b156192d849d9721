"""Fine-Tune Studio: raw documents or instruction data to a LoRA/QLoRA adapter you can demo."""

__version__ = "0.1.0"
