"""Training and fine-tuning: patch sampling from photos and the training loop."""
