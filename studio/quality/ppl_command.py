"""`python -m studio ppl`: score every record's perplexity, bucket by language and length, flag both tails.

    python -m studio ppl IN.jsonl --report REPORT.json [--model ID|PATH] [--out KEPT.jsonl --removed REMOVED.jsonl]
        [--field text] [--chat-tokens assistant|conversation] [--buckets 5] [--trim-high 0.02] [--trim-low 0.01]
        [--batch-size N] [--max-length L] [--load-in-4bit]

The report (JSON) holds every record's perplexity, NLL sum, token count and bucket by id, the bucket edges and
per-bucket thresholds, and the flagged ids with their tail. The report itself is built in
`studio.quality.ppl_report`, shared with the Quality tab so that both give the same files.

Choices where the issue is silent:
- Input is read with the studio's ingestion, as the Data tab reads it: text records, and chat records (messages,
  ShareGPT, alpaca and prompt/completion pairs all become messages) in one file. `--field` names the text field;
  a field other than `text` reads the file as text records only. Chat records are scored on their assistant
  turns in the context of the conversation, or with `--chat-tokens conversation` on every token, rendered by the
  reference tokenizer's chat template as training renders them (`studio.quality.ppl_encode`); the report says which
  under "chat". A record that cannot be read (unreadable line, missing or empty field, a list or object instead
  of text, over 1,000,000 characters) stops the command before the model is loaded, with every problem listed by
  file and line or id and exit status 2, and nothing is written: kept + removed must always add up to the input.
  Ingestion turns numbers and true/false in the text field into text, so those are scored as written.
- --out and --removed come together. Kept records are the ingested records (with the `id` and `source` ingestion
  gives them), in input order. A removed entry is {"id", "reason": "ppl_high"|"ppl_low", "perplexity", "bucket",
  "n_tokens", "record": the whole record}, like dedup's, so a version's removed.jsonl can restore what was dropped.
- A record the model cannot score (a chat its template cannot render, no assistant token, a non-finite loss) is
  kept, listed under "unscored" with a reason code, counted per reason under counts.unscored_by_reason, and
  reported as a warning per reason.
- Exit status: 0 done; 2 bad arguments, input or model (nothing written); 1 the model failed while scoring.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from studio.config import DEMO_MODEL
from studio.progress import StderrProgress
from studio.quality.buckets import DEFAULT_BUCKETS, DEFAULT_TRIM_HIGH, DEFAULT_TRIM_LOW, BucketSettings
from studio.quality.ppl_encode import CHAT_TOKENS, DEFAULT_CHAT_TOKENS
from studio.quality.ppl_report import bucket_scores, build_report, split_records

_LISTED = 20  # problems printed before "... and N more"


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("input", metavar="IN.jsonl", help="records to score (JSONL, or any file the Data tab reads)")
    parser.add_argument("--report", required=True, metavar="REPORT.json",
                        help="per-record perplexity, bucket edges and thresholds, flagged ids (written atomically)")
    parser.add_argument("--model", default=DEMO_MODEL, metavar="ID|PATH",
                        help=f"reference causal LM: Hub id, local folder or {DEMO_MODEL} (default)")
    parser.add_argument("--out", metavar="KEPT.jsonl", help="write the records not flagged (needs --removed)")
    parser.add_argument("--removed", metavar="REMOVED.jsonl", help="write the flagged records and why (needs --out)")
    parser.add_argument("--field", default="text", help="the field holding the text (default text)")
    parser.add_argument("--chat-tokens", choices=CHAT_TOKENS, default=DEFAULT_CHAT_TOKENS,
                        help="tokens of a chat record that are scored: its assistant turns, in the context of the "
                             "conversation (what training learns; default), or the whole conversation")
    parser.add_argument("--buckets", type=int, default=DEFAULT_BUCKETS,
                        help=f"length buckets per language, at token-count quantiles (default {DEFAULT_BUCKETS})")
    parser.add_argument("--trim-high", type=float, default=DEFAULT_TRIM_HIGH,
                        help=f"share of each bucket flagged as noise, highest perplexity (default {DEFAULT_TRIM_HIGH})")
    parser.add_argument("--trim-low", type=float, default=DEFAULT_TRIM_LOW,
                        help=f"share of each bucket flagged as boilerplate, lowest perplexity "
                             f"(default {DEFAULT_TRIM_LOW})")
    parser.add_argument("--batch-size", type=int, default=8, metavar="N",
                        help="windows per forward pass (default 8); logits take N x L x vocabulary x 4 bytes")
    parser.add_argument("--max-length", type=int, default=None, metavar="L",
                        help="window in tokens; longer records are scored with a sliding window (default: the "
                             "model's context, at most 2048)")
    parser.add_argument("--load-in-4bit", action="store_true", help="load the reference model in 4-bit NF4")
    return parser


def _fail(message: str, status: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


def _list(problems: Sequence[str], what: str) -> None:
    for line in problems[:_LISTED]:
        print(f"error: {line}", file=sys.stderr)
    if len(problems) > _LISTED:
        print(f"error: ... and {len(problems) - _LISTED} more", file=sys.stderr)
    print(f"error: {len(problems)} {what}; fix or remove them and run again — nothing was written", file=sys.stderr)


def _check_args(args: argparse.Namespace) -> str:
    """What is wrong with the arguments, or ""."""
    if (args.out is None) != (args.removed is None):
        return "--out and --removed go together: give both files or neither"
    if args.batch_size < 1:
        return f"--batch-size: {args.batch_size}; must be at least 1"
    if args.max_length is not None and args.max_length < 2:
        return f"--max-length: {args.max_length}; must be at least 2 tokens"
    source = Path(args.input).resolve()
    for option in ("report", "out", "removed"):
        value = getattr(args, option)
        if value is not None and Path(value).resolve() == source:
            return f"--{option} is the input file {args.input}; write the results elsewhere"
    try:
        BucketSettings(args.buckets, args.trim_high, args.trim_low)
    except ValueError as exc:
        return "--" + str(exc).replace("_", "-")
    return ""


def read_records(path: str, field: str) -> tuple[list[dict], list[str]]:
    """The records of `path` with their text in `field`, and every problem that stops the run (file:line: ...)."""
    from studio.data.ingest import ingest_paths
    from studio.quality.perplexity import check_records

    # A named field must be the text of every record; the default reads chats too, as the Data tab does.
    result = ingest_paths([path], format="auto") if field == "text" else ingest_paths(
        [path], format="text", mapping={"text": field})
    problems = [f"{i.file}{':' + i.where if i.where else ''}: {i.message}" for i in result.issues
                if i.severity == "error"]
    for issue in result.issues:
        if issue.severity != "error":
            print(f"warning: {issue.file}{':' + issue.where if issue.where else ''}: {issue.message}", file=sys.stderr)
    records = result.records
    if field != "text":  # ingestion names the text "text"; keep the user's field name in what we write back
        records = [{**{k: v for k, v in r.items() if k != "text"}, field: r["text"]} for r in records]
    problems += [f"{path}: {issue.message}" for issue in check_records(records, field)[1]]
    if not records and not problems:
        problems.append(f"{path}: no records")
    return records, problems


def _warn_unscored(issues: Sequence) -> None:
    """One warning per reason: its count and the first few records (a set of chats and a reference model without
    a chat template would otherwise print a line per record)."""
    by_code: dict[str, list] = {}
    for issue in issues:
        by_code.setdefault(issue.code, []).append(issue)
    for code, listed in by_code.items():
        more = f" (and {len(listed) - 3} more)" if len(listed) > 3 else ""
        print(f"warning: {len(listed)} record(s) not scored ({code}), kept unscored: "
              f"{'; '.join(i.message for i in listed[:3])}{more}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from studio.quality.perplexity import load_scorer, score_records
    from studio.workspace import atomic_write_jsonl, atomic_write_text

    problem = _check_args(args)
    if problem:
        return _fail(problem)
    records, problems = read_records(args.input, args.field)
    if problems:
        _list(problems, "records cannot be scored" if records else "problems with the input")
        return 2
    try:
        scorer = load_scorer(args.model, load_in_4bit=args.load_in_4bit)
    except (OSError, ValueError, ImportError) as exc:  # no such folder, not on the Hub (offline), bad config
        return _fail(f"--model {args.model}: {exc}")
    try:
        result = score_records(records, scorer, field=args.field, batch_size=args.batch_size,
                               max_length=args.max_length, chat_tokens=args.chat_tokens, progress=StderrProgress())
    except ValueError as exc:  # a window the model cannot take
        return _fail(str(exc).replace("max_length", "--max-length"))
    except RuntimeError as exc:  # out of memory and other failures inside the model
        return _fail(f"scoring failed: {exc}; try a smaller --batch-size or --max-length", 1)
    _warn_unscored(result.issues)
    settings = BucketSettings(args.buckets, args.trim_high, args.trim_low)
    buckets = bucket_scores(records, result.scores, settings)
    meta = {"input": str(args.input), "model": args.model, "field": args.field, "load_in_4bit": args.load_in_4bit,
            "prefix_token": scorer.tokenizer.convert_ids_to_tokens(scorer.prefix_id)
            if scorer.prefix_id is not None else None}
    report = build_report(records, result, buckets, meta)
    atomic_write_text(args.report, json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    if args.out is not None:
        kept, removed = split_records(records, report)
        atomic_write_jsonl(args.out, kept)
        atomic_write_jsonl(args.removed, removed)
    counts, chat = report["counts"], report["chat"]
    if chat["chat_records_scored"]:
        print(f"{chat['chat_records_scored']:,} chat records scored on "
              f"{'their assistant turns' if chat['tokens'] == 'assistant' else 'the whole conversation'}")
    print(f"{counts['scored']:,} records scored in {result.seconds:.1f} s ({result.tokens_per_second:,.0f} tokens/s); "
          f"{counts['flagged_high']} flagged high, {counts['flagged_low']} flagged low, in {len(buckets.buckets)} "
          f"buckets; report {args.report}")
    return 0
