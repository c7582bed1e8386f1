#!/usr/bin/env bash
# The image test: the Dockerfile's runtime stage around the llmtap this build just made (target
# `prebuilt`; this host is Debian 12 like the image, so the libraries match), built and checked
# by scripts/build-image.sh on a base made from Debian's archive. Everything lives in a throwaway
# vfs store under a temporary directory, removed afterwards with every image and container.
#   image_test.sh SOURCE_DIR LLMTAP_BINARY
set -euo pipefail
source_dir="$1" binary="$2"

for tool in buildah mmdebstrap; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "image_test: FAILED: $tool is not installed (scripts/install-deps.sh installs it)" >&2
    exit 1
  fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/llmtap-image-test.XXXXXX")
mkdir "$tmp/tmp"
printf '[storage]\ndriver = "vfs"\ngraphroot = "%s/root"\nrunroot = "%s/run"\n' "$tmp" "$tmp" \
  >"$tmp/storage.conf"
export CONTAINERS_STORAGE_CONF="$tmp/storage.conf" STORAGE_DRIVER=vfs TMPDIR="$tmp/tmp"

# buildah records blob digests in /var/lib/containers/cache whatever the store; drop what it
# made there if nothing was there before.
blob_cache=/var/lib/containers/cache
made_containers_dir=false made_cache_dir=false
[ -e /var/lib/containers ] || made_containers_dir=true
[ -e "$blob_cache" ] || made_cache_dir=true

cleanup() {
  buildah rm --all >/dev/null 2>&1 || true
  buildah rmi --all --force >/dev/null 2>&1 || true
  # A run killed half-way could leave a bind mount under the store: never delete through it.
  if findmnt -rn -o TARGET | grep -q "^$tmp"; then
    echo "image_test: mounts remain under $tmp; left in place" >&2
  else
    rm -rf --one-file-system "$tmp"
  fi
  if $made_containers_dir; then rm -rf /var/lib/containers
  elif $made_cache_dir; then rm -rf "$blob_cache"; fi
}
trap cleanup EXIT

start=$SECONDS
"$source_dir/scripts/build-image.sh" --base local --prebuilt "$binary" --tag localhost/llmtap:image-test
echo "image_test: passed in $((SECONDS - start)) s"
