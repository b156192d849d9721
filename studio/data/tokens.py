"""Token counts and token end offsets from a fast tokenizer, the way chunking needs them: text counted alone."""

from __future__ import annotations


class Tokens:
    """The fast tokenizer's Rust backend, set up to count text alone: no special tokens, truncation or padding."""

    def __init__(self, tokenizer) -> None:
        from tokenizers import Tokenizer

        backend = tokenizer if isinstance(tokenizer, Tokenizer) else getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise ValueError("tokenizer: chunking needs a fast tokenizer (a tokenizer.json); "
                             f"{type(tokenizer).__name__} has none")
        if backend.truncation or backend.padding:
            # A copy, so the caller's tokenizer keeps its settings; truncation would make counts silently wrong.
            backend = Tokenizer.from_str(backend.to_str())
            backend.no_truncation()
            backend.no_padding()
        self._backend = backend
        self._count_batch = getattr(backend, "encode_batch_fast", backend.encode_batch)

    def token_ends(self, texts: list[str], slice_chars: int) -> list[list[int]]:
        """For each text, the character offset where each of its tokens ends (ascending); texts are tokenized in
        slices of `slice_chars` characters, which bounds the tokenizer's memory on a huge text."""
        pieces, owners = [], []
        for index, text in enumerate(texts):
            for shift in range(0, max(len(text), 1), slice_chars):
                pieces.append(text[shift:shift + slice_chars])
                owners.append((index, shift))
        result: list[list[int]] = [[] for _ in texts]
        for (index, shift), encoding in zip(owners, self._backend.encode_batch(pieces, add_special_tokens=False)):
            if shift:
                result[index].extend(end + shift for _, end in encoding.offsets)
            else:
                result[index].extend(end for _, end in encoding.offsets)
        return result

    def counts(self, texts: list[str]) -> list[int]:
        """The exact token count of each text tokenized alone."""
        return [len(encoding) for encoding in self._count_batch(texts, add_special_tokens=False)]
