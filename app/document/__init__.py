"""One open photo and its undo history (results and mask edits)."""
