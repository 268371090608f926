#!/usr/bin/env bash
# The GPU figures of benchmarks/gpu_suite.py, for a lent GPU machine (about 8 minutes on one H200):
#   run with the device tool:  bash benchmarks/gpu_suite.sh    (writes $OUT/gpu.json and $OUT/gpu.log)
# Dry run here on the CPU:     bash benchmarks/gpu_suite.sh --device cpu --tiny
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-/tmp}"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total --format=csv 2>/dev/null || true
python3 -c "import torch, click, PIL, imageio" || pip install -q click pillow imageio
python3 benchmarks/gpu_suite.py --json "$out/gpu.json" "$@" 2>&1 | tee "$out/gpu.log"
