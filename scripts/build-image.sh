#!/usr/bin/env bash
# Builds llmtap's image from the Dockerfile with buildah (chroot isolation, vfs storage unless
# STORAGE_DRIVER says otherwise), then checks it: every shared library resolves, `llmtap
# --version` runs, the shipped default policy validates, and the image starts `llmtap daemon`.
#
#   scripts/build-image.sh [--base registry|local] [--prebuilt BINARY] [--tag NAME] [--jobs N]
#
#   --base registry  FROM debian:12 and debian:12-slim from the registry (the default)
#   --base local     both stages on a Debian 12 minbase made with mmdebstrap from Debian's
#                    archive (slimmed like debian:12-slim), for machines that reach no registry
#   --prebuilt FILE  skip the in-image compile: the runtime stage around FILE, an llmtap built on
#                    a Debian 12 host (Dockerfile target `prebuilt`; what tests/deploy checks)
#   --tag NAME       the image's name (default localhost/llmtap:latest); it stays in the store
#   --jobs N         the in-image compile's parallelism (default: all cores)
# The store is the caller's (CONTAINERS_STORAGE_CONF picks another one); run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

base=registry prebuilt="" tag=localhost/llmtap:latest jobs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base="$2"; shift 2 ;;
    --prebuilt) prebuilt="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    *) echo "build-image.sh: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
case "$base" in registry|local) ;; *) echo "build-image.sh: --base is registry or local" >&2; exit 2 ;; esac

need=(buildah)
[ "$base" = local ] && need+=(mmdebstrap)
for tool in "${need[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-image.sh: $tool is not installed (Debian package '$tool'; scripts/install-deps.sh installs it)" >&2
    exit 1
  fi
done
export STORAGE_DRIVER="${STORAGE_DRIVER:-vfs}" BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"

work=$(mktemp -d "${TMPDIR:-/tmp}/llmtap-build-image.XXXXXX")
local_base="localhost/llmtap-base:debian12-slim-$$"
container=""
cleanup() {
  if [ -n "$container" ]; then buildah rm "$container" >/dev/null 2>&1 || true; fi
  if [ "$base" = local ]; then buildah rmi "$local_base" >/dev/null 2>&1 || true; fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

bud=(buildah bud --isolation "$BUILDAH_ISOLATION" --layers=false -t "$tag")
if [ "$base" = local ]; then
  # What debian:12-slim is (a minbase with docs, man pages and locales left out), from the
  # archive apt uses here; merged /usr by hook, so usrmerge does not pull perl in.
  echo "build-image.sh: making a Debian 12 base from Debian's archive (mmdebstrap)"
  TMPDIR="$work" mmdebstrap --quiet --variant=minbase \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    bookworm "$work/base.tar" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" >"$work/mmdebstrap.log" 2>&1 \
    || { tail -20 "$work/mmdebstrap.log" >&2; exit 1; }
  scratch=$(buildah from scratch)
  buildah add --quiet "$scratch" "$work/base.tar" / >/dev/null
  buildah config --cmd /bin/bash "$scratch"
  buildah commit --quiet --rm "$scratch" "$local_base" >/dev/null
  rm -f "$work/base.tar"
  bud+=(--pull=never --build-arg "BUILD_BASE=$local_base" --build-arg "RUNTIME_BASE=$local_base")
fi
if [ -n "$prebuilt" ]; then
  mkdir "$work/host-build"
  strip -o "$work/host-build/llmtap" "$prebuilt"  # as the in-image build does
  bud+=(--target prebuilt --build-context "host-build=$work/host-build")
fi
[ -n "$jobs" ] && bud+=(--build-arg "JOBS=$jobs")

echo "build-image.sh: ${bud[*]} ."
start=$SECONDS
"${bud[@]}" . >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
echo "build-image.sh: built $tag in $((SECONDS - start)) s"

container=$(buildah from --pull=never "$tag")
check() {  # check WHAT COMMAND...: runs COMMAND in the image, fails with its output
  local what="$1"; shift
  local out
  if ! out=$(buildah run "$container" -- "$@" 2>&1); then
    echo "build-image.sh: FAILED: $what: $*" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "build-image.sh: ok: $what: $out"
}
check "libraries resolve" sh -c 'if ldd /usr/sbin/llmtap | grep "not found"; then exit 1; fi; echo all found'
check "version" /usr/sbin/llmtap --version
check "default policy" /usr/sbin/llmtap policy validate /usr/share/llmtap/policies/default-policy.yaml
runs=$(buildah inspect --type image --format '{{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.Cmd}}' "$tag")
if [ "$runs" != "[/usr/sbin/llmtap] [daemon]" ]; then
  echo "build-image.sh: FAILED: the image runs '$runs', not '[/usr/sbin/llmtap] [daemon]'" >&2
  exit 1
fi
echo "build-image.sh: ok: runs $runs"
echo "build-image.sh: $tag is $(buildah images --format '{{.Size}}' "$tag")"
