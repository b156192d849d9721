"""The training process: `python -m studio train RECIPE.yaml --run-dir DIR [--resume latest|checkpoint-N]`.

One run, top to bottom: read the recipe → load tokenizer, data and model → train with the Trainer → save the
adapter and its card → write the final status. It talks to the world only through the run folder (DESIGN.md):
status.json, events.jsonl, worker.log, checkpoints/, adapter/ (model/ for full fine-tuning).

How it ends, and the exit code:
- finished (0): the schedule ran out or early stopping ended it; the adapter is saved;
- stopped (0): SIGINT/SIGTERM arrived; a checkpoint and the adapter are saved at the next step end;
- failed (1 error, 2 bad recipe or data, 3 out of memory, 4 NaN/inf): the reason is in status.json, the alert in
  events.jsonl and the traceback in worker.log; checkpoints already written are kept for a resume.

Under `accelerate launch` or `torchrun` one worker runs per device, all with the same recipe, run folder and data.
Every rank trains; rank 0 alone writes status.json, events.jsonl, the adapter, its card and trainer_state.json, and
logs to worker.log; rank R logs to worker-rankR.log. The launcher forwards a SIGINT/SIGTERM once to each worker,
and the ranks agree at every step end whether any of them was asked to stop (`studio.train.ranks`), so all stop and
save at the same step. Each worker's exit code keeps the meaning above; the launcher itself exits non-zero after
any signal, so status.json, not the launcher's code, says whether a stop was graceful.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from studio.noise import quiet_library_noise
from studio.train.events import FAILED, FINISHED, LOG_FILE, RECIPE_FILE, STARTING, STOPPED, EventLog, read_status
from studio.train.ranks import is_main, rank

quiet_library_noise()  # before the callbacks bring in transformers, PEFT and bitsandbytes (see studio.noise)

from studio.train.callbacks import StopRequest, peak_memory_gib, say  # noqa: E402

EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_OOM, EXIT_NAN = 0, 1, 2, 3, 4


class _Tee:
    """Writes to the log file and to the terminal, for runs started by hand from a shell."""

    def __init__(self, *streams: Any):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
            stream.flush()
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()

    def isatty(self) -> bool:
        return False


@contextmanager
def output_to_log(run_dir: Path, echo: bool) -> Iterator[None]:
    """Send this process's output to worker.log; with `echo`, to the terminal as well.

    Without echo the file descriptors themselves are redirected, so output of C extensions lands in the log too,
    and no pipe to a parent exists that could fill up and block the run when the parent goes away. The other ranks
    of a multi-process run log to worker-rankR.log only, so the terminal and worker.log show each step once.
    """
    name = LOG_FILE if is_main() else LOG_FILE.replace(".log", f"-rank{rank()}.log")
    echo = echo and is_main()
    log = open(run_dir / name, "a", encoding="utf-8", buffering=1)
    saved = sys.stdout, sys.stderr
    if echo:
        sys.stdout, sys.stderr = _Tee(saved[0], log), _Tee(saved[1], log)
    else:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        sys.stdout, sys.stderr = log, log
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        log.close()


def install_stop_handlers(stop: StopRequest) -> None:
    """First SIGINT/SIGTERM: save and stop at the next step end. A second SIGINT interrupts at once.

    The handler only sets a flag: it runs between two bytecodes of the main thread, which may be inside a status
    write holding its lock, so the files are updated by the callback at the step end instead.
    """

    def handle(signum, frame):
        if stop.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.requested, stop.signal_name = True, signal.Signals(signum).name

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def _size(gib: float) -> str:
    return f"{gib:.1f} GiB" if gib >= 0.1 else f"{gib * 1024:.0f} MiB"


def oom_advice(recipe) -> list[str]:
    """The VRAM estimator's ranked advice for this recipe (empty when the model's config is unknown offline)."""
    try:
        from studio.estimate.catalogue import load_shape
        from studio.estimate.vram import advise, settings_from_recipe

        return [f"{a.action} (saves ~{_size(a.saving_gib)})"
                for a in advise(load_shape(recipe.model.name_or_path), settings_from_recipe(recipe))[:4]]
    except (ValueError, FileNotFoundError, KeyError, OSError):
        return []


def estimated_peak_gib(recipe) -> float | None:
    try:
        from studio.estimate.catalogue import load_shape
        from studio.estimate.vram import estimate_vram, settings_from_recipe

        return round(estimate_vram(load_shape(recipe.model.name_or_path), settings_from_recipe(recipe)).total_gib, 3)
    except (ValueError, FileNotFoundError, KeyError, OSError):
        return None


def workspace_for(run_dir: Path, workspace: str | None):
    from studio.workspace import Workspace

    if workspace is None and run_dir.parent.name == "runs":
        workspace = str(run_dir.parent.parent)  # runs/<id> inside a workspace: datasets are its neighbours
    return Workspace.open(workspace)


def save_result(trainer, tokenizer, recipe, run_dir: Path, card: str, main: bool = True) -> Path:
    """Adapter (or full model) plus tokenizer and card, written beside and renamed into place whole.

    Every rank calls it: weights sharded by FSDP or ZeRO-3 are gathered by all ranks together, and only the main
    one (`main`) writes.
    """
    target = run_dir / ("model" if recipe.method == "full" else "adapter")
    staging = run_dir / f".{target.name}.tmp"
    if main:
        shutil.rmtree(staging, ignore_errors=True)
    if trainer.is_fsdp_enabled or trainer.is_deepspeed_enabled:
        if trainer.is_fsdp_enabled:  # a sharded state dict would save no loadable weights
            trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
        trainer.save_model(str(staging))  # collective gather; writes on the main process only
        if main:
            (staging / "training_args.bin").unlink(missing_ok=True)  # a pickle; the card holds the recipe
    elif main:
        trainer.model.save_pretrained(staging)
    if not main:
        return target
    tokenizer.save_pretrained(staging)
    (staging / "README.md").write_text(card, encoding="utf-8")
    old = run_dir / f".{target.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def run(recipe_path: str, run_dir: str, resume: str | None = None, workspace: str | None = None,
        echo: bool = True) -> int:
    folder = Path(run_dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    with output_to_log(folder, echo):
        events = EventLog(folder, enabled=is_main())
        stop = StopRequest()
        install_stop_handlers(stop)
        events.update_status(state=STARTING, pid=os.getpid(), started=time.time(), error=None, ended=None,
                             resume=resume)
        events.write("status", state=STARTING, pid=os.getpid(), resume=resume)
        say(f"worker {os.getpid()} for {folder.name} ({time.strftime('%Y-%m-%d %H:%M:%S')})")
        try:
            return _train(recipe_path, folder, resume, workspace, stop, events)
        except KeyboardInterrupt:
            return _fail(folder, events, "interrupted twice: stopped without saving", EXIT_ERROR)
        except Exception as exc:  # noqa: BLE001 - the boundary: every failure must end as a status, not a hang
            traceback.print_exc()
            return _fail(folder, events, f"{exc.__class__.__name__}: {exc}", EXIT_ERROR)
        finally:
            events.close()


def _fail(folder: Path, events: EventLog, error: str, code: int, **extra: Any) -> int:
    events.update_status(state=FAILED, error=error, ended=time.time(), exit_code=code, **extra)
    events.write("status", state=FAILED, error=error)
    say(f"failed: {error}")
    return code


def _train(recipe_path: str, folder: Path, resume: str | None, workspace: str | None, stop: StopRequest,
           events: EventLog) -> int:
    from studio.recipe_io import RecipeError, load_recipe
    from studio.train.data import DataError
    from studio.train.ranks import agree_on_step

    try:
        recipe = load_recipe(recipe_path)
        if Path(recipe_path).resolve() != (folder / RECIPE_FILE) and events.enabled:
            shutil.copyfile(recipe_path, folder / RECIPE_FILE)
        from studio.train.session import prepare

        session = prepare(recipe, folder, workspace_for(folder, workspace), events, stop)
    except (RecipeError, DataError, FileNotFoundError) as exc:
        figures = {"data": exc.data} if isinstance(exc, DataError) and exc.data else {}  # a refused set's counts
        return _fail(folder, events, str(exc), EXIT_INPUT, **figures)
    if agree_on_step(None, stop.requested)[1]:  # every rank, or none, leaves before training starts
        return _finish(session, folder, events, STOPPED, save=False)
    checkpoint = session.resume_checkpoint(resume)
    # A fresh run measures eval loss before the first update, so the curve shows where training started from.
    session.trainer.args.eval_on_start = checkpoint is None and session.trainer.eval_dataset is not None
    import torch

    try:
        session.trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    except torch.OutOfMemoryError as exc:
        traceback.print_exc()
        advice = oom_advice(recipe)
        events.write("alert", alert="oom", stop=True, advice=advice, step=session.trainer.state.global_step,
                     message=f"out of memory at step {session.trainer.state.global_step}: "
                             + ("; ".join(advice) if advice else "lower the micro-batch or max length"))
        return _fail(folder, events, f"out of memory ({exc})", EXIT_OOM, advice=advice)
    alert = session.callback.failed_alert
    if alert is not None:
        good = read_status(folder).get("last_checkpoint")
        return _fail(folder, events, alert["message"], EXIT_NAN, last_good_checkpoint=good)
    return _finish(session, folder, events, STOPPED if stop.requested else FINISHED, save=True)


def _finish(session, folder: Path, events: EventLog, state: str, save: bool) -> int:
    extra: dict[str, Any] = {}
    status = read_status(folder)
    if save:
        status = events.update_status(state=state, memory_gib=peak_memory_gib(session.cuda),
                                      step=session.trainer.state.global_step,
                                      train_seconds=session.callback.train_seconds())
        target = save_result(session.trainer, session.tokenizer, session.recipe, folder,
                             session.card(status) if events.enabled else "", main=events.enabled)
        if events.enabled:
            session.trainer.state.save_to_json(str(folder / "trainer_state.json"))
        extra["output"] = target.name
        say(f"saved {target}")
    events.update_status(state=state, ended=time.time(), exit_code=EXIT_OK, **extra)
    events.write("status", state=state, step=status.get("step"), **extra)
    say(f"{state} at step {status.get('step')}")
    return EXIT_OK
