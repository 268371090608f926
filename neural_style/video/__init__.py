"""Video: optical-flow warping, the occlusion mask and the warping error (issue 12's foundation)."""
