"""The tools: the mask brush, and the non-modal tool windows (batch restore with its results table,
fine-tuning with its preview, and the user's models)."""
