"""Photos in and out: reading, metadata, writing, masks, and files written atomically."""
