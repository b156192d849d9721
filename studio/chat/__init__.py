"""Chat with a base model and its LoRA adapters on one copy of the weights (the Compare tab's engine)."""

from studio.chat.engine import BASE, ChatEngine, GenerationSettings, StreamChunk

__all__ = ["BASE", "ChatEngine", "GenerationSettings", "StreamChunk"]
