# llmtap's image: built on Debian 12, run on a slim Debian 12 with only the runtime libraries.
# The image runs `llmtap daemon`; deploy/kubernetes has the DaemonSet. scripts/build-image.sh
# builds it with buildah and checks it (docs/deploy.md, "The image"); by hand:
#   buildah bud --isolation chroot -t llmtap:latest .    (or: docker build -t llmtap:latest .)
# BUILD_BASE and RUNTIME_BASE swap the bases for ones made from Debian's archive where no
# registry is reachable (scripts/build-image.sh --base local).
ARG BUILD_BASE=debian:12
ARG RUNTIME_BASE=debian:12-slim

FROM ${BUILD_BASE} AS build
ENV DEBIAN_FRONTEND=noninteractive
# Hyperscan is x86-64 only; Vectorscan is its API-compatible port (as in scripts/install-deps.sh).
RUN if [ "$(dpkg --print-architecture)" = amd64 ]; then hs=libhyperscan-dev; else hs=libvectorscan-dev; fi \
    && apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      build-essential cmake pkg-config clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev \
      libssl-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libyaml-cpp-dev \
      libnghttp2-dev libbrotli-dev libzstd-dev libsimdjson-dev libcurl4-openssl-dev \
      libmicrohttpd-dev libre2-dev libtomlplusplus-dev "$hs" ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# vmlinux.h comes from the build host's /sys/kernel/btf/vmlinux (CO-RE: any BTF kernel will do).
# JOBS caps the compile's parallelism (all cores by default).
ARG JOBS
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DLLMTAP_BUILD_TESTS=OFF \
      -DLLMTAP_BUILD_BENCH=OFF \
    && cmake --build /build -j"${JOBS:-$(nproc)}" --target llmtap \
    && strip /build/llmtap

# What every llmtap image has: the packages of the shared libraries llmtap needs (`readelf -d
# llmtap`; libc6, libstdc++6 and libgcc-s1 come with the base), the CA bundle for the HTTPS
# sinks, and the shipped policies.
FROM ${RUNTIME_BASE} AS runtime
ENV DEBIAN_FRONTEND=noninteractive
RUN if [ "$(dpkg --print-architecture)" = amd64 ]; then hs=libhyperscan5; else hs=libvectorscan5; fi \
    && apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      libbpf1 libelf1 zlib1g libssl3 libspdlog1.10 libfmt9 libyaml-cpp0.7 libnghttp2-14 \
      libbrotli1 libzstd1 libsimdjson14 libcurl4 libmicrohttpd12 libre2-9 libtomlplusplus3 \
      "$hs" ca-certificates \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY policies/ /usr/share/llmtap/policies/
ENTRYPOINT ["/usr/sbin/llmtap"]
CMD ["daemon"]

# The runtime stage around an llmtap built on a Debian 12 host (so its libraries are the
# image's), given as the build context `host-build`: the fast image test (tests/deploy).
#   buildah bud --target prebuilt --build-context host-build=DIR_HOLDING_LLMTAP .
FROM runtime AS prebuilt
COPY --from=host-build llmtap /usr/sbin/llmtap

# The default target: the runtime stage around the llmtap built above.
FROM runtime AS image
COPY --from=build /build/llmtap /usr/sbin/llmtap
