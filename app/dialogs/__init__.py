"""Modal dialogs: prompts and messages, preferences, the shortcuts list, the crash-recovery question."""
