"""Beta-order total-variation denoising: fidelity + lambda * TV_beta, solved exactly."""
