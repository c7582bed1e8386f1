#!/usr/bin/env bash
# Installs everything llmtap needs to build, run and test on Debian 12, from Debian's packages
# (and the npm registry for the test clients' SDKs). Idempotent; run as root.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: must run as root (apt-get)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq

packages=(
  # build
  build-essential cmake pkg-config git
  # a compile cache: a second build of the same sources (CI on a machine that built them) reuses
  # its objects (scripts/compiler-cache.sh)
  ccache
  # BPF toolchain: clang -target bpf, bpftool for vmlinux.h and skeletons, libbpf
  clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
  # userspace libraries
  libssl-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libyaml-cpp-dev
  libnghttp2-dev libbrotli-dev libzstd-dev libsimdjson-dev libcurl4-openssl-dev libmicrohttpd-dev
  # policy: patterns (RE2 confirms what Hyperscan finds), gitleaks rule files (TOML)
  libre2-dev libtomlplusplus-dev
  # tests; libFuzzer and the sanitizers for scripts/fuzz.sh
  libgtest-dev libgmock-dev googletest libclang-rt-14-dev
  # real TLS clients the tests drive
  curl wget openssl gnutls-bin libgnutls28-dev python3 nodejs iproute2 util-linux mount procps
  # a real syslog receiver (UDP, TCP, TLS) for the syslog delivery tests
  rsyslog rsyslog-gnutls
  # the image (scripts/build-image.sh, the deploy_image test): buildah builds the Dockerfile,
  # mmdebstrap makes a Debian 12 base from Debian's archive where no registry is reachable
  buildah mmdebstrap
  # the audit's HTML report is opened in a real headless browser by its tests
  chromium fonts-liberation
)
# Debian's nodejs (Node 18) ships without npm, which is its own package; a machine whose node
# came from elsewhere (NodeSource's nodejs carries npm and conflicts with Debian's) keeps it.
# Hyperscan is x86-64 only; Vectorscan is its API-compatible port (arm64 and others).
if [ "$(dpkg --print-architecture)" = amd64 ]; then packages+=(libhyperscan-dev); else packages+=(libvectorscan-dev); fi
if ! command -v npm >/dev/null 2>&1 && ! dpkg-query -W -f='${Version}' nodejs 2>/dev/null | grep -q nodesource; then
  packages+=(npm)
fi
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "install-deps.sh: ${#packages[@]} packages present"

# The official LLM SDKs the end-to-end tests drive (versions pinned in package-lock.json).
cd "$(dirname "$0")/../tests/clients"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
echo "install-deps.sh: test SDKs installed: $(ls node_modules | tr '\n' ' ')"
