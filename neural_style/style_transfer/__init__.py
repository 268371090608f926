"""Gatys et al. style transfer: an optimiser updates the image itself."""
