"""Reading a prompt set for batch evaluation: one JSON object per line, each a prompt and what to score it against.

A line holds
- `messages` (a chat: role system/user/assistant, content text) or `prompt` (text: one user message); when both
  are present `messages` is used (the bundled intent_eval.jsonl has both, `prompt` repeating the user turn);
- optionally `reference`: the expected answer, as text (a JSON object or array given instead is written back as
  compact JSON text, so a reference can be typed either way);
- optionally `json_schema`: a JSON Schema every answer to this prompt must satisfy (the subset in
  `studio.evaluate.schema`);
- optionally `id` (text or number); otherwise "<file stem>-<line>".

A chat that ends with an assistant message is a finished example: that message is the reference (when the line
has no `reference`) and is removed from the prompt, so a held-out split of chat training data can be used as is.

Like every reader of the studio, a bad line is skipped and reported with its file and line and what to do; it
never stops the others. Files are read with the studio's ingestion reader (encoding detection, BOM, UTF-16, a
truncated last line, oversized lines).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.data.issues import IngestIssue, IssueLog
from studio.data.readers import IngestLimits, Row, read_jsonl
from studio.evaluate.schema import schema_problems, unsupported_keywords

ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class EvalPrompt:
    """One prompt of a prompt set, ready to send to every model."""

    id: str
    messages: list[dict]
    """The conversation up to the answer; its last message is the user's."""
    reference: str | None = None
    """The expected answer as text, or None."""
    json_schema: dict | None = None
    """A JSON Schema the answer must satisfy, or None."""
    source: str = ""
    """"file.jsonl:12", for messages about this prompt."""

    @property
    def text(self) -> str:
        """The last user message: what a person reading the results calls "the prompt"."""
        return self.messages[-1]["content"]


@dataclass
class PromptSet:
    prompts: list[EvalPrompt] = field(default_factory=list)
    issues: list[IngestIssue] = field(default_factory=list)

    @property
    def errors(self) -> list[IngestIssue]:
        return [issue for issue in self.issues if issue.severity == "error"]


class _Bad(ValueError):
    """A line that cannot be used; the message says what to do."""


def _messages(value: dict) -> list[dict]:
    if "messages" in value:
        turns = value["messages"]
        if not isinstance(turns, list) or not turns:
            raise _Bad("messages must be a non-empty list of {\"role\", \"content\"} objects")
        out = []
        for i, turn in enumerate(turns):
            if not isinstance(turn, dict) or turn.get("role") not in ROLES:
                raise _Bad(f"messages[{i}] needs a role of {', '.join(ROLES)}")
            if not isinstance(turn.get("content"), str):
                raise _Bad(f"messages[{i}].content must be text")
            out.append({"role": turn["role"], "content": turn["content"]})
        return out
    if "prompt" in value:
        if not isinstance(value["prompt"], str) or not value["prompt"].strip():
            raise _Bad("prompt must be non-empty text")
        return [{"role": "user", "content": value["prompt"]}]
    raise _Bad("no prompt: give \"prompt\": \"...\" (one user message) or \"messages\": [{\"role\": \"user\", "
               "\"content\": \"...\"}]")


def _reference(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dict, list, int, float, bool)):
        return json.dumps(value, ensure_ascii=False)
    raise _Bad(f"reference must be text, got {type(value).__name__}")


def _schema(value: Any) -> tuple[dict | None, list[str]]:
    """The schema and the keywords of it that are not checked; _Bad when it cannot be applied."""
    if value is None:
        return None, []
    problems = schema_problems(value)
    if problems:
        raise _Bad("json_schema: " + "; ".join(problems[:3]) + "; fix the schema or remove json_schema")
    return value, unsupported_keywords(value)


def _prompt(row: Row, stem: str, log: IssueLog) -> EvalPrompt:
    value = row.value
    if not isinstance(value, dict):
        raise _Bad(f"expected a JSON object with \"prompt\" or \"messages\", got {type(value).__name__}")
    messages = _messages(value)
    reference = _reference(value.get("reference"))
    if messages[-1]["role"] == "assistant":  # a finished example: its answer is the reference
        final = messages.pop()["content"]
        if reference is None:
            reference = final
        else:
            log.warning(row.where, "the chat ends with an assistant message and the line has a reference; the "
                                   "assistant message was dropped and the reference is used")
    if not messages or messages[-1]["role"] != "user":
        raise _Bad("the chat has no user message to answer; end the prompt with a user message")
    schema, unchecked = _schema(value.get("json_schema"))
    if unchecked:
        log.warning(row.where, f"json_schema keywords not checked (the rest is): {', '.join(unchecked[:5])}")
    raw_id = value.get("id")
    ident = str(raw_id) if isinstance(raw_id, (str, int)) and str(raw_id).strip() else f"{stem}-{row.number}"
    return EvalPrompt(ident, messages, reference, schema, row.source)


def read_prompts(path: str | Path, limits: IngestLimits = IngestLimits()) -> PromptSet:
    """The usable prompts of a JSONL file (or bundled:<name>) and an issue for every line that is not."""
    if str(path).startswith("bundled:"):
        from studio.assets import resolve_bundled

        path = resolve_bundled(str(path))
    path = Path(path)
    log = IssueLog(path.name, max_listed=limits.max_listed_issues)
    read = read_jsonl(path, path.name, log, limits, lambda fraction, message: None)
    result, seen = PromptSet(), set()
    for row in read.rows:
        try:
            prompt = _prompt(row, path.stem, log)
        except _Bad as exc:
            log.error(row.where, f"{exc}; the line was skipped")
            continue
        if prompt.id in seen:
            unique = f"{prompt.id}-line{row.number}"
            log.warning(row.where, f"id {prompt.id!r} is used by an earlier line; this one is called {unique!r}")
            prompt = EvalPrompt(unique, prompt.messages, prompt.reference, prompt.json_schema, prompt.source)
        seen.add(prompt.id)
        result.prompts.append(prompt)
    if read.rows and not result.prompts:
        log.error("", "no usable prompts (see the lines above)", skips=0)
    result.issues = log.finish()
    return result
