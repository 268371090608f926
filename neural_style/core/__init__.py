"""The foundation every capability shares: losses, the perceptual objective, the VGG feature
extractor and its weights, the optimisation loop, devices and precision, metrics and colour."""
