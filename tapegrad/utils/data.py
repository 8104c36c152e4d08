"""torch.utils.data: datasets and loaders."""
