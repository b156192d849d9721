"""Everything one run trains with, assembled from its recipe: tokenizer, data, model, Trainer and the callback.

`prepare` is the setup half of the worker (the train and save half is `studio.train.worker`), kept apart so tests
and benchmarks can build the same Trainer the worker uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.config import Recipe
from studio.train.callbacks import StopRequest, StudioCallback, say
from studio.train.events import EventLog
from studio.train.ranks import world_size


@dataclass
class Session:
    recipe: Recipe
    folder: Path
    tokenizer: Any
    data: Any  # studio.train.data.TrainData
    trainer: Any  # studio.train.trainer.StudioTrainer
    callback: StudioCallback
    events: EventLog
    cuda: bool

    def resume_checkpoint(self, wanted: str | None) -> Path | None:
        """The checkpoint to resume from, after skipping damaged ones (each skip is an event and a log line)."""
        from studio.train.checkpoints import choose_resume

        if not wanted:
            return None
        checkpoint, messages = choose_resume(self.folder, wanted)
        for message in messages:
            self.events.write("alert", alert="checkpoint_damaged", stop=False, message=message)
            say(message)
        if checkpoint is None:
            message = "no usable checkpoint to resume from: training starts again from step 0"
            self.events.write("alert", alert="no_checkpoint", stop=False, message=message)
            say(message)
            return None
        self.events.write("status", state="resuming", checkpoint=checkpoint.name,
                          resumed_from_step=int(checkpoint.name.split("-")[1]))
        self.events.update_status(resumed_from=checkpoint.name)
        say(f"resuming from {checkpoint.name}")
        return checkpoint

    def card(self, status: dict[str, Any]) -> str:
        from studio.train.card import model_card

        return model_card(self.recipe, status, self.data.info, self.folder.name)


def prepare(recipe: Recipe, folder: Path, ws, events: EventLog, stop: StopRequest) -> Session:
    from studio.data.packing import mask_kind_for
    from studio.data.versions import dataset_file
    from studio.models import load_tokenizer
    from studio.train.builders import precision, training_arguments, use_cuda
    from studio.train.data import ItemDataset, build_train_data, make_collator, records_line
    from studio.train.model_setup import build_model, trainable_summary
    from studio.train.trainer import StudioTrainer
    from studio.train.worker import estimated_peak_gib
    from transformers import PrinterCallback, set_seed

    cuda = use_cuda(recipe)
    tokenizer = load_tokenizer(recipe.model)
    general = recipe.data.mix_general_dataset
    data = build_train_data(recipe, tokenizer, str(dataset_file(ws, recipe.data.dataset)),
                            str(dataset_file(ws, general)) if general else None)
    events.write("data", **data.info)
    events.update_status(data=data.info)
    say(records_line(data.info, data.count))
    say(f"data: {data.info}")
    p = precision(recipe, cuda)
    has_eval = len(data.eval) > 0
    # The arguments come before the model: under DeepSpeed ZeRO-3 they register the config that makes
    # from_pretrained load each weight already partitioned (zero3_init_flag) instead of whole on every rank.
    args = training_arguments(recipe, folder / "checkpoints", cuda, has_eval)
    # The recipe's seed covers initialisation too (the LoRA A matrices): reruns repeat, and a run on N processes
    # starts from the weights a one-process run starts from.
    set_seed(recipe.runtime.seed)
    model = build_model(recipe, cuda, p)
    sizes = trainable_summary(model)
    estimate = estimated_peak_gib(recipe)
    processes = world_size()
    events.update_status(method=recipe.method, model=recipe.model.name_or_path, dataset=recipe.data.dataset,
                         precision=p, device="cuda" if cuda else "cpu", estimated_peak_gib=estimate,
                         processes=processes, **sizes)
    say(f"model: {recipe.model.name_or_path} ({recipe.method}, {p}, {'cuda' if cuda else 'cpu'}), "
        f"{sizes['trainable_params']:,} of {sizes['total_params']:,} parameters trainable")
    if processes != recipe.batch.num_gpus:
        say(f"note: {processes} processes train this run but the recipe's batch.num_gpus is "
            f"{recipe.batch.num_gpus}; each optimizer step sees {processes} × "
            f"{recipe.batch.per_device_batch_size} × {recipe.batch.gradient_accumulation_steps} sequences, and "
            f"the Configure tab's step counts assumed {recipe.batch.num_gpus}")
    callback = StudioCallback(folder, events, stop, data.ids_of, cuda, recipe.checkpoint.early_stopping_patience)
    trainer = StudioTrainer(model=model, args=args, train_dataset=ItemDataset(data.train),
                            eval_dataset=ItemDataset(data.eval) if has_eval else None,
                            data_collator=make_collator(tokenizer.pad_token_id, recipe.data.packing,
                                                        mask_kind_for(recipe.model.attn_implementation)),
                            processing_class=tokenizer, callbacks=[callback])
    callback.trainer = trainer
    trainer.remove_callback(PrinterCallback)  # the studio's callback logs each step in its own words already
    return Session(recipe, folder, tokenizer, data, trainer, callback, events, cuda)
