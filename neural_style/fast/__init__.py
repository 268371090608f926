"""Johnson et al. fast style networks: the transform network, training, checkpoints, model
files, transfer and export."""
