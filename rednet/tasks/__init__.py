"""The four restoration tasks: what each one's network sees, how a clean photo is degraded for it."""
