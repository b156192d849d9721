"""Benchmark: the training worker's speed against a plain Trainer + PEFT script, with packing, and with the UI polling.

    python benchmarks/train_speed.py [--quick] [--steps 100] [--repeats 4] [--phase-s 10] [--threads N] [--keep DIR]

Each run is a CPU process started as users start it, timed from when its training logs were written (events.jsonl;
a callback in the baseline): loading, encoding, the first WARMUP_STEPS steps and the final save are never timed.

1. Worker overhead: the bundled demo model learns the bundled intent chats (LoRA r 16, all linear layers, batch 8,
   lr 2e-3, eval off, no save inside the window) through our worker (`python -m studio train RECIPE --run-dir DIR
   --no-echo`) and through the ~15-line script a user would write (BASELINE: chat template with the assistant mask
   as labels, DataCollatorForSeq2Seq, the same TrainingArguments, Trainer.train()). Target: samples/s ratio >= 0.95.
2. Packing: a length-skewed chat set (the ~64-token intent chats, 1 in 10 with a long context, ~220-420 tokens),
   data.packing false vs true, same max_length and batch. Real tokens/s are the worker's `tokens_per_second` events
   (example tokens without padding, `n_real_tokens` of studio/train/data.py, summed by StudioTrainer.compute_loss
   between two logs), time-weighted. Target: packed / unpacked >= 1.5.
3. UI polling: inside one worker run (separate processes differ by up to ~30% here), --phase-s seconds of polling
   alternate with as many without. A poll is the Train tab's every POLL_S: `studio.ui.train_views.refresh`
   (list_runs, events through an EventCursor, status, log tail, four plotly figures) plus Gradio's JSON
   serialisation of each figure. Target: slowdown of the polled phases' samples/s <= 2%.

Runs alternate (a b, b a, ...); the median of the per-round ratios (per neighbouring pair of phases for 3) counts
and the list is the noise. On shared cores each run waits (MAX_WAIT_S) for other processes to use under QUIET_CORES,
the CPU is sampled, and log intervals in which others used more are left out (quiet share printed per run). torch on
every core slows down several-fold when another process takes one; --threads 1 degrades more gracefully.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from studio.assets import DEMO_MODEL_DIR, INTENT_CHAT_FILE  # noqa: E402
from studio.config import (BatchConfig, CheckpointConfig, DataConfig, DurationConfig, LoraConfig,  # noqa: E402
                           ModelConfig, OptimConfig, Recipe, RuntimeConfig)
from studio.recipe_io import save_recipe  # noqa: E402
from studio.workspace import Workspace  # noqa: E402

TARGET_RATIO, TARGET_PACKING, TARGET_POLL = 0.95, 1.5, 0.02  # issue #6
WARMUP_STEPS = 10  # logs before this optimizer step are not timed: the first steps allocate and pick kernels
QUIET_CORES = 0.25  # other processes' CPU use (cores) above which a log interval is left out
MAX_WAIT_S = 60.0  # longest wait before a run for other processes to go under QUIET_CORES; 3x that in all
SAMPLE_S = 0.25  # CPU sampling period during a run (s)
POLL_S = 2.0  # the Train tab's gr.Timer period (POLL_S in studio/ui/train.py, not imported: it pulls in Gradio)
BATCH, LR, RANK, ALPHA, LOG_STEPS = 8, 2e-3, 16, 32, 5
MAX_LENGTH, PACK_MAX_LENGTH = 256, 512  # tokens; the intent chats are 50-88 tokens, the skewed set up to ~430
TICK = os.sysconf("SC_CLK_TCK")  # /proc counts CPU time in these per second


# The user's script. The timing callback is measurement only: it notes when each log happens, as the worker's
# events do; use_cache off is what the worker does too (the KV cache is useless in training).
BASELINE = '''\
import json, sys, time
import torch
from datasets import Dataset
from peft import LoraConfig, get_peft_model
from transformers import (AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainerCallback,
                          TrainingArguments)

model_dir, data_file, out_dir, steps, batch, lr, log_steps, max_len, r, alpha = sys.argv[1:]
tokenizer = AutoTokenizer.from_pretrained(model_dir)

def encode(record):
    enc = tokenizer.apply_chat_template(record["messages"], tokenize=True, return_dict=True, truncation=True,
                                        max_length=int(max_len), return_assistant_tokens_mask=True)
    labels = [t if m else -100 for t, m in zip(enc["input_ids"], enc["assistant_masks"])]
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "labels": labels}

data = Dataset.from_list([encode(json.loads(line)) for line in open(data_file) if line.strip()])
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
model.config.use_cache = False
model = get_peft_model(model, LoraConfig(r=int(r), lora_alpha=int(alpha), lora_dropout=0.0,
                                         target_modules="all-linear", task_type="CAUSAL_LM"))
args = TrainingArguments(out_dir, per_device_train_batch_size=int(batch), learning_rate=float(lr),
                         max_steps=int(steps), logging_steps=int(log_steps), logging_first_step=True,
                         save_strategy="no", report_to="none", use_cpu=True, seed=42)

class Clock(TrainerCallback):
    logs = []
    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.logs.append({"step": state.global_step, "time": time.time()})

Trainer(model=model, args=args, train_dataset=data, data_collator=DataCollatorForSeq2Seq(tokenizer),
        callbacks=[Clock()]).train()
json.dump({"logs": Clock.logs, "threads": torch.get_num_threads()}, open(f"{out_dir}/result.json", "w"))
'''


def write_recipe(folder: Path, name: str, dataset: str, steps: int, max_length: int, packing: bool) -> Path:
    """Our side's recipe: the settings of the baseline script, eval off, the first save far after the last step."""
    recipe = Recipe(name=name, model=ModelConfig(dtype="float32"),
                    data=DataConfig(dataset=dataset, format="messages", max_length=max_length, packing=packing,
                                    eval_split=0.0),
                    lora=LoraConfig(r=RANK, alpha=ALPHA, dropout=0.0, target_modules=["all-linear"]),
                    optim=OptimConfig(learning_rate=LR, weight_decay=0.0),
                    batch=BatchConfig(per_device_batch_size=BATCH, gradient_accumulation_steps=1),
                    duration=DurationConfig(max_steps=steps),
                    checkpoint=CheckpointConfig(logging_steps=LOG_STEPS, save_steps=steps * 10),
                    runtime=RuntimeConfig(precision="fp32", device="cpu"))
    path = folder / f"{name}.yaml"
    return save_recipe(recipe, path, f"python -m studio train {path} --run-dir RUN_DIR --no-echo")


def skewed_chats(path: Path, count: int = 800, long_share: float = 0.1, seed: int = 0) -> Path:
    """Intent chats; a share `long_share` of them carry 15-30 earlier requests in the user turn (~220-420 tokens in
    all, under PACK_MAX_LENGTH: nothing is truncated, so both runs train the same tokens)."""
    rng = Random(seed)
    chats = [json.loads(line) for line in INTENT_CHAT_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    requests = [c["messages"][1]["content"] for c in chats]
    with open(path, "w", encoding="utf-8") as out:
        for n in range(count):
            system, user, answer = chats[n % len(chats)]["messages"]
            if rng.random() < long_share:
                context = "; ".join(rng.choices(requests, k=rng.randint(15, 30)))
                user = {**user, "content": f"Earlier today: {context}. Now: {user['content']}"}
            out.write(json.dumps({"id": f"skew-{n}", "messages": [system, user, answer]}) + "\n")
    return path


def busy_s() -> float:
    """CPU seconds every process has used (all but idle and iowait; steal counts, it is someone else's)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / TICK


class CpuSampler(threading.Thread):
    """Every SAMPLE_S: wall time, CPU s of every process (/proc/stat), of the run (/proc/PID/stat) and of this
    process (the poller's share counts as ours), so each timed interval can be checked for other processes' load."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples = pid, []
        self.start()

    def run(self) -> None:
        while True:
            try:
                fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return  # the run has ended and was reaped
            run_s = (int(fields[11]) + int(fields[12])) / TICK  # utime + stime of all its threads
            self.samples.append((time.time(), busy_s(), run_s, time.process_time()))
            time.sleep(SAMPLE_S)

    def others(self, t0: float, t1: float) -> float:
        """Cores that other processes used on average around [t0, t1] (0 when too few samples to tell)."""
        a = ([s for s in self.samples if s[0] <= t0] or self.samples[:1] or [(0.0,) * 4])[-1]
        b = ([s for s in self.samples if s[0] >= t1] or self.samples[-1:] or [(0.0,) * 4])[0]
        if b[0] <= a[0]:
            return 0.0
        return max(0.0, (b[1] - a[1]) - (b[2] - a[2]) - (b[3] - a[3])) / (b[0] - a[0])


def run_process(command: list[str], cwd: Path, env: dict, log: Path, during=None) -> tuple[CpuSampler, object]:
    """Run one training process to its end (output to `log`) while sampling the CPU; `during(proc)` runs here
    meanwhile and its result is returned. Exits with the log's tail if the run fails."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)
    sampler = CpuSampler(proc.pid)
    result = during(proc) if during else None
    if proc.wait() != 0:
        tail = log.read_bytes()[-3000:].decode("utf-8", errors="replace")
        sys.exit(f"{' '.join(command[:4])} ... failed (exit {proc.returncode}); end of {log}:\n{tail}")
    sampler.join()  # it ends once the reaped process is gone from /proc
    return sampler, result


def poll_in_phases(proc: subprocess.Popen, ws: Workspace, run_id: str, phase_s: float) -> tuple[list, list]:
    """Until the run ends: phase_s seconds polling every POLL_S, then phase_s seconds not polling, and so on.
    Returns the phases as (start, end, polled) and each poll's CPU seconds."""
    from studio.ui.train_views import TrainView, refresh

    view, phases, costs, polled = TrainView(), [], [], True
    while proc.poll() is None:
        start = time.time()
        while proc.poll() is None and time.time() < start + phase_s:
            tick, cpu = time.time(), time.process_time()
            if polled:
                for figure in refresh(ws, view, run_id, [], False).figures or ():
                    figure.to_json()  # what Gradio's gr.Plot does with each figure it sends to the browser
                costs.append(time.process_time() - cpu)
            try:
                proc.wait(timeout=max(0.0, min(tick + POLL_S, start + phase_s) - time.time()))
            except subprocess.TimeoutExpired:
                pass
        phases.append((start, time.time(), polled))
        polled = not polled
    return phases, costs


def events_of(run_dir: Path, kind: str) -> list[dict]:
    lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e.get("kind") == kind]


def intervals(logs: list[dict], tokens: bool = False) -> list[tuple[float, float, float]]:
    """(start, end, samples or real tokens) between consecutive logs from WARMUP_STEPS on."""
    return [(a["time"], b["time"], b["tokens_per_second"] * (b["time"] - a["time"]) if tokens
             else (b["step"] - a["step"]) * BATCH) for a, b in zip(logs, logs[1:]) if a["step"] >= WARMUP_STEPS]


def quiet_rate(spans: list[tuple[float, float, float]], sampler: CpuSampler) -> tuple[float, float]:
    """Amount per second over the intervals in which other processes stayed under QUIET_CORES, and the share of
    the timed window those intervals cover; when under half is quiet, every interval counts (share shown < 0.5)."""
    if not spans:
        sys.exit(f"too few training logs after step {WARMUP_STEPS} to time: raise the step counts")
    quiet = [s for s in spans if sampler.others(s[0], s[1]) < QUIET_CORES]
    share = sum(s[1] - s[0] for s in quiet) / sum(s[1] - s[0] for s in spans)
    kept = quiet if share >= 0.5 else spans
    return sum(s[2] for s in kept) / sum(s[1] - s[0] for s in kept), share


def phase_rates(spans: list, phases: list, sampler: CpuSampler, quiet_only: bool) -> list[tuple[bool, float]]:
    """(polled, samples/s) of each phase holding at least two whole (quiet) log intervals, in time order."""
    inside = [(polled, [s for s in spans if start <= s[0] and s[1] <= end
                        and not (quiet_only and sampler.others(s[0], s[1]) >= QUIET_CORES)])
              for start, end, polled in phases]
    return [(polled, sum(s[2] for s in kept) / sum(s[1] - s[0] for s in kept)) for polled, kept in inside
            if len(kept) >= 2]


class Bench:
    """The run folders and the environment every training process gets."""

    def __init__(self, work: Path, threads: int | None):
        self.work, self.ws = work, Workspace.open(work / "workspace")
        self.env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        if threads:
            self.env["OMP_NUM_THREADS"] = str(threads)
        self.threads: int | None = threads
        self.shares: list[float] = []  # quiet share of each run
        self.wait_left_s = 3 * MAX_WAIT_S

    def launch(self, command: list[str], cwd: Path, log: Path, during=None) -> tuple[CpuSampler, object, str]:
        started = time.monotonic()
        while time.monotonic() - started < min(MAX_WAIT_S, self.wait_left_s):  # others under QUIET_CORES for 1 s
            before = busy_s()
            time.sleep(1.0)
            if busy_s() - before < QUIET_CORES:
                break
        waited = time.monotonic() - started
        self.wait_left_s -= waited
        sampler, result = run_process(command, cwd, self.env, log, during)
        return sampler, result, f"load {os.getloadavg()[0]:.2f}" + (f", waited {waited:.0f} s" if waited >= 2 else "")

    def show(self, run_id: str, unit: str, timed: tuple, note: str, extra: str = "") -> tuple[float, bool]:
        """Prints the run's rate, quiet share (quiet_rate) and load; returns the rate and whether it was quiet."""
        rate, share = timed
        self.shares.append(share)
        print(f"  {run_id:12}{rate:8,.1f} {unit}{extra}; quiet {share:.0%}"
              f"{' (contended: all intervals used)' if share < 0.5 else ''}, {note}", flush=True)
        return rate, share >= 0.5

    def worker(self, recipe: Path, run_id: str, during=None) -> tuple[Path, CpuSampler, object, str]:
        folder = self.ws.runs / run_id
        folder.mkdir(parents=True)
        command = [sys.executable, "-m", "studio", "train", str(recipe), "--run-dir", str(folder), "--no-echo"]
        return folder, *self.launch(command, ROOT, folder / "launch.log", during)

    def ours(self, recipe: Path, run_id: str) -> tuple[float, bool]:
        folder, sampler, _, note = self.worker(recipe, run_id)
        return self.show(run_id, "samples/s", quiet_rate(intervals(events_of(folder, "train")), sampler), note)

    def baseline(self, script: Path, steps: int, run_id: str) -> tuple[float, bool]:
        out = self.work / run_id
        out.mkdir()
        command = [sys.executable, str(script), str(DEMO_MODEL_DIR), str(INTENT_CHAT_FILE), str(out), str(steps),
                   str(BATCH), str(LR), str(LOG_STEPS), str(MAX_LENGTH), str(RANK), str(ALPHA)]
        sampler, _, note = self.launch(command, self.work, out / "launch.log")
        result = json.loads((out / "result.json").read_text(encoding="utf-8"))
        self.threads = self.threads or result["threads"]
        return self.show(run_id, "samples/s", quiet_rate(intervals(result["logs"]), sampler), note)

    def polled(self, recipe: Path, run_id: str, phase_s: float) -> list[tuple[bool, float]]:
        during = lambda proc: poll_in_phases(proc, self.ws, run_id, phase_s)  # noqa: E731
        folder, sampler, (phases, costs), note = self.worker(recipe, run_id, during)
        spans = intervals(events_of(folder, "train"))
        timed = quiet_rate(spans, sampler)
        rates = phase_rates(spans, phases, sampler, quiet_only=timed[1] >= 0.5)  # as quiet_rate decides
        self.show(run_id, "samples/s", timed, note, f" ({len(costs)} polls of "
                  f"{statistics.mean(costs) * 1000:.0f} ms CPU; per phase, P polled: "
                  + " ".join(f"{'P' if p else '-'}{r:.1f}" for p, r in rates) + ")")
        return rates

    def packed(self, recipe: Path, run_id: str) -> tuple[float, bool]:
        folder, sampler, _, note = self.worker(recipe, run_id)
        data = events_of(folder, "data")[0]
        rows = f", {data['packed_rows']} rows" if "packed_rows" in data else ""
        return self.show(run_id, "real tokens/s", quiet_rate(intervals(events_of(folder, "train"), tokens=True),
                                                             sampler), note,
                         f" ({data['train']} examples, {data['train_tokens']:,} tokens, {data['truncated']} "
                         f"truncated, {data['dropped']} dropped{rows})")


def bench_overhead(bench: Bench, steps: int, repeats: int) -> dict[str, list[tuple[float, bool]]]:
    recipe = write_recipe(bench.work, "overhead", "bundled:intent_chat", steps, MAX_LENGTH, packing=False)
    script = bench.work / "baseline_train.py"
    script.write_text(BASELINE, encoding="utf-8")
    print(f"\n1. worker vs a plain Trainer + PEFT script: demo model, intent chats, {steps} steps of batch {BATCH}, "
          f"samples/s from step {WARMUP_STEPS}")
    rates: dict[str, list[tuple[float, bool]]] = {"ours": [], "baseline": []}
    for n in range(repeats):  # a b, b a, a b, ...: a linear drift weighs on both alike
        for name in ("ours", "baseline")[:: 1 if n % 2 == 0 else -1]:
            rates[name].append(bench.ours(recipe, f"ours-{n + 1}") if name == "ours"
                               else bench.baseline(script, steps, f"baseline-{n + 1}"))
    return rates


def bench_packing(bench: Bench, steps: int, repeats: int) -> dict[str, list[tuple[float, bool]]]:
    data = skewed_chats(bench.work / "skewed_chats.jsonl")
    recipes = {name: write_recipe(bench.work, f"pack-{name}", str(data), steps, PACK_MAX_LENGTH, name == "on")
               for name in ("off", "on")}
    print(f"\n2. packing on a length-skewed chat set: max_length {PACK_MAX_LENGTH}, {steps} steps of {BATCH} rows, "
          f"real tokens/s from step {WARMUP_STEPS}")
    rates: dict[str, list[tuple[float, bool]]] = {"off": [], "on": []}
    for n in range(repeats):
        for name in ("off", "on")[:: 1 if n % 2 == 0 else -1]:
            rates[name].append(bench.packed(recipes[name], f"pack-{name}-{n + 1}"))
    return rates


def bench_polling(bench: Bench, steps: int, runs: int, phase_s: float) -> list[float]:
    """Polled / unpolled samples/s of each pair of neighbouring phases of the same run."""
    recipe = write_recipe(bench.work, "polled", "bundled:intent_chat", steps, MAX_LENGTH, packing=False)
    print(f"\n3. the Train tab polling every {POLL_S:.0f} s during a run, {phase_s:.0f} s on / {phase_s:.0f} s off: "
          f"{steps} steps, samples/s per phase")
    ratios = []
    for n in range(runs):  # every phase against each neighbour of the other kind
        rates = bench.polled(recipe, f"polled-{n + 1}", phase_s)
        ratios += [a / b if p else b / a for (p, a), (q, b) in zip(rates, rates[1:]) if p != q]
    return ratios


def compare(runs: dict[str, list[tuple[float, bool]]], top: str, bottom: str, unit: str) -> tuple[float, str, str]:
    """Median of the ratios top / bottom over the rounds in which both runs were quiet (every round if none was),
    the two medians over those rounds, and each round's ratio (the noise; contended rounds in brackets)."""
    rounds = list(zip(runs[top], runs[bottom]))
    kept = [(a, b) for (a, qa), (b, qb) in rounds if qa and qb] or [(a, b) for (a, _), (b, _) in rounds]
    return (statistics.median(a / b for a, b in kept), f"{top} {statistics.median(a for a, _ in kept):,.1f} vs "
            f"{bottom} {statistics.median(b for _, b in kept):,.1f} {unit}", "per round " + ", ".join(
                f"{a / b:.3f}" if qa and qb else f"({a / b:.3f})" for (a, qa), (b, qb) in rounds))


def report(overhead: dict, packing: dict, polling: list[float]) -> None:
    r, r_figures, r_noise = compare(overhead, "ours", "baseline", "samples/s")
    g, g_figures, g_noise = compare(packing, "on", "off", "real tokens/s")
    slow = 1 - statistics.median(polling) if polling else float("nan")
    p_noise = "slowdown per pair " + ", ".join(f"{1 - x:+.1%}" for x in polling)
    rows = [("worker overhead", r_figures, f"{r:.3f}x", f">= {TARGET_RATIO}x", r >= TARGET_RATIO, r_noise),
            ("packing", g_figures, f"{g:.2f}x", f">= {TARGET_PACKING}x", g >= TARGET_PACKING, g_noise),
            ("UI polling", f"polled vs unpolled phases, {len(polling)} pairs", f"{slow:+.1%}", f"<= {TARGET_POLL:.0%}",
             slow <= TARGET_POLL if polling else None, p_noise)]
    print(f"\n{'target':17}{'measured (medians)':52}{'ratio':>9}{'target':>10}{'':>6}  noise")
    for name, figures, value, target, ok, noise in rows:
        print(f"{name:17}{figures:52}{value:>9}{target:>10}{ {True: 'PASS', False: 'MISS'}.get(ok, 'n/a'):>6}  {noise}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: short runs, one round each (~3 min)")
    parser.add_argument("--steps", type=int, default=100, help="optimizer steps of an overhead run (default 100); "
                        "a polled run takes 3x as many, a packing run 0.3x (at least 20)")
    parser.add_argument("--repeats", type=int, default=4, help="rounds of ours / baseline (default 4); half as "
                        "many rounds of packing off / on, and of polled runs")
    parser.add_argument("--phase-s", type=float, default=10.0, help="seconds per polled / unpolled phase")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per run (default: torch's choice)")
    parser.add_argument("--keep", default=None, help="folder for the runs, kept afterwards (default: a temp dir)")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.repeats, args.phase_s = 30, 1, 4.0
    halves = max(1, args.repeats // 2)
    started, load_before = time.monotonic(), ", ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="train_speed_") as temp:
        work = Path(args.keep or temp).resolve()
        work.mkdir(parents=True, exist_ok=True)
        bench = Bench(work, args.threads)
        print(f"{os.cpu_count()} CPU cores, load average {load_before} at start; runs in {work}")
        overhead = bench_overhead(bench, args.steps, args.repeats)
        packing = bench_packing(bench, max(20, args.steps * 3 // 10), halves)
        polling = bench_polling(bench, 3 * args.steps, halves, args.phase_s)
    print(f"\nmachine: {os.cpu_count()} CPU cores, {bench.threads} torch threads per training process; load average "
          f"{load_before} at start, {', '.join(f'{x:.2f}' for x in os.getloadavg())} at the end; "
          f"{(time.monotonic() - started) / 60:.1f} min; timed windows quiet {min(bench.shares):.0%} at worst")
    report(overhead, packing, polling)


if __name__ == "__main__":
    main()
