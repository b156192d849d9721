"""Evaluation of base and adapters: answer metrics (`metrics`, `schema`), prompt sets (`prompts`), batch runs
through the chat engine (`batch`), blind A/B votes (`votes`), merging an adapter into its base (`merge`) and the
`eval` command (`eval_command`). Pure Python at import: torch loads only when a model does."""
