#!/usr/bin/env bash
# Builds the GPU binary, target-cuda/release/podbrief (`cargo build --release --features cuda`),
# on a machine with or without a CUDA toolkit; no GPU is needed to build.
#
#   scripts/build-cuda.sh
#
# Toolkit: nvcc on PATH, else /usr/local/cuda, else the NVIDIA CUDA packages from PyPI
# (CUDA 13: nvidia-cuda-nvcc, -runtime, -cccl, -nvrtc, nvidia-cublas, nvidia-curand: no root,
# no system packages), installed into a venv under ~/.cache/podbrief/cuda.
# Running the binary needs the NVIDIA driver (libcuda) and, with the PyPI toolkit, the library
# path this script prints at the end.
#
# Env: CUDA_COMPUTE_CAP (default: the first GPU's, from nvidia-smi, else 90 = H100/H200; 80 is
# A100, 89 L4/L40/RTX 40xx), CUDA_PIP_VERSION (13.0.*: the toolkit from PyPI, in a version
# cudarc knows; the driver must run CUDA 13 code, 580 or newer), CUDA_CACHE (~/.cache/podbrief/cuda).
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
    # CUDA 13 is the first whose PyPI packages carry nvcc itself (the -cu12 ones have only
    # ptxas); they all unpack into one tree, site-packages/nvidia/cu13, laid out as
    # /usr/local/cuda is, which serves as CUDA_ROOT as it is.
    version="${CUDA_PIP_VERSION:-13.0.*}"
    if [ ! -x "$cache/venv/bin/python" ] || ! "$cache/venv/bin/python" -c 'import nvidia' 2>/dev/null \
        || [ ! -x "$(ls -d "$cache"/venv/lib/python3*/site-packages/nvidia/cu13 2>/dev/null)/bin/nvcc" ]; then
        echo "build-cuda: no CUDA toolkit here; installing CUDA $version from PyPI into $cache"
        python3 -m venv "$cache/venv"
        # Every part pinned to one release: nvcc's dependencies (nvvm, crt) would otherwise come
        # newer than its ptxas, which then refuses their PTX.
        "$cache/venv/bin/pip" install --quiet "nvidia-cuda-nvcc==$version" \
            "nvidia-nvvm==$version" "nvidia-cuda-crt==$version" "nvidia-cuda-runtime==$version" \
            "nvidia-cuda-cccl==$version" "nvidia-cuda-nvrtc==$version" "nvidia-cublas==$version" \
            nvidia-curand
    fi
    root="$(ls -d "$cache"/venv/lib/python3*/site-packages/nvidia/cu13)"
    # The wheels ship versioned sonames only; the linker and cudarc also look for bare names.
    for so in "$root"/lib/lib*.so.*; do
        base="${so%%.so.*}.so"; [ -e "$base" ] || ln -sfn "$so" "$base"
    done
    # The binary links against libcuda, which only the NVIDIA driver installs. On a build
    # machine without a driver, link against a stub with the driver's soname and every entry
    # point cuda.h declares (as NVIDIA's toolkit stubs do). It goes in lib64/, a folder the
    # kernels' build gives the linker but that is not on the run-time library path (lib/ is),
    # so at run time the driver's libcuda.so.1 is the one loaded.
    [ -L "$root/lib64" ] && rm "$root/lib64"
    mkdir -p "$root/lib64"
    if ! ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '; then
        python3 - "$root/include/cuda.h" >"$root/lib64/libcuda-stub.c" <<'PY'
import re, sys
h = open(sys.argv[1]).read()
names = set(re.findall(r"CUDAAPI\s+(cu[A-Za-z0-9_]+)\s*\(", h))
names |= set(re.findall(r"#define\s+cu[A-Za-z0-9_]+\s+(cu[A-Za-z0-9_]+)\b", h))
for n in sorted(names):
    print(f"void {n}(void) {{}}")
PY
        cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$root/lib64/libcuda.so" "$root/lib64/libcuda-stub.c"
        echo "build-cuda: no NVIDIA driver here; linking against a libcuda stub"
    fi
    export CUDA_ROOT="$root" CUDA_PATH="$root" PATH="$root/bin:$PATH"
    libs="$root/lib"
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
