"""The non-modal tool windows: batch restore and fine-tuning."""
