#!/usr/bin/env bash
# Builds the GPU binary, target-cuda/release/podbrief (`cargo build --release --features cuda`),
# on a machine with or without a CUDA toolkit; no GPU is needed to build.
#
#   scripts/build-cuda.sh
#
# Toolkit: nvcc on PATH, else /usr/local/cuda, else the NVIDIA CUDA packages from PyPI
# (nvidia-cuda-nvcc-cu12, -runtime, -nvrtc, cublas, curand: no root, no system packages),
# installed into a venv under ~/.cache/podbrief/cuda and assembled into one CUDA_ROOT there.
# Running the binary needs the NVIDIA driver (libcuda) and, with the PyPI toolkit, the library
# path this script prints at the end.
#
# Env: BUILD_ONLY=1 (skip the runtime libraries: enough to compile), CUDA_COMPUTE_CAP (default: the first GPU's, from nvidia-smi, else 90 = H100/H200; 80 is
# A100, 89 L4/L40/RTX 40xx), CUDA_PIP_VERSION (12.4.*, the toolkit from PyPI; its PTX must not be
# newer than the driver), CUDA_CACHE (~/.cache/podbrief/cuda).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cache="${CUDA_CACHE:-$HOME/.cache/podbrief/cuda}"
libs=""

if command -v nvcc >/dev/null; then
    echo "build-cuda: using $(command -v nvcc)"
elif [ -x /usr/local/cuda/bin/nvcc ]; then
    export PATH="/usr/local/cuda/bin:$PATH" CUDA_ROOT=/usr/local/cuda
    echo "build-cuda: using /usr/local/cuda"
else
    version="${CUDA_PIP_VERSION:-12.4.*}"
    root="$cache/root"
    if [ ! -x "$root/bin/nvcc" ]; then
        echo "build-cuda: no CUDA toolkit here; installing CUDA $version from PyPI into $cache"
        python3 -m venv "$cache/venv"
        # cuBLAS and cuRAND are only loaded when the binary runs; BUILD_ONLY=1 skips them.
        runtime=("nvidia-cuda-nvrtc-cu12==$version" "nvidia-cublas-cu12" "nvidia-curand-cu12")
        [ "${BUILD_ONLY:-0}" = 1 ] && runtime=()
        "$cache/venv/bin/pip" install --quiet \
            "nvidia-cuda-nvcc-cu12==$version" "nvidia-cuda-runtime-cu12==$version" "${runtime[@]}"
        site="$("$cache/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
        rm -rf "$root" && mkdir -p "$root/bin" "$root/include" "$root/lib64"
        # One toolkit tree out of the per-component wheels, laid out as /usr/local/cuda is.
        for pkg in "$site"/nvidia/*/; do
            for sub in bin include lib; do
                [ -d "$pkg$sub" ] || continue
                dest="$root/$sub"; [ "$sub" = lib ] && dest="$root/lib64"
                for f in "$pkg$sub"/*; do ln -sfn "$f" "$dest/$(basename "$f")"; done
            done
        done
        ln -sfn "$site/nvidia/cuda_nvcc/nvvm" "$root/nvvm"
        # The wheels ship versioned sonames only; the linker and cudarc also look for the bare names.
        for so in "$root"/lib64/lib*.so.*; do
            base="${so%%.so.*}.so"; [ -e "$base" ] || ln -sfn "$so" "$base"
        done
    fi
    export CUDA_ROOT="$root" CUDA_PATH="$root" PATH="$root/bin:$PATH"
    libs="$root/lib64"
fi

if [ -z "${CUDA_COMPUTE_CAP:-}" ]; then
    cap="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d . || true)"
    export CUDA_COMPUTE_CAP="${cap:-90}"
fi
echo "build-cuda: kernels for compute capability $CUDA_COMPUTE_CAP ($(nvcc --version | tail -1))"
cd "$repo"
CARGO_TARGET_DIR="$repo/target-cuda" cargo build --release --features cuda
echo "build-cuda: built target-cuda/release/podbrief"
if [ -n "$libs" ]; then
    echo "build-cuda: run it with LD_LIBRARY_PATH=$libs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
fi
