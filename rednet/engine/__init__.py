"""Running a model on a photo: device choice, tiling, inference, restore, batch runs."""
