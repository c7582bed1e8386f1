# llmtap's image: built on Debian 12, run on a slim Debian 12 with only the runtime libraries.
#   buildah bud -t llmtap:latest .     (or: docker build -t llmtap:latest .)
# The image runs `llmtap daemon`; deploy/kubernetes has the DaemonSet.

FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      build-essential cmake pkg-config clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev \
      libssl-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libyaml-cpp-dev \
      libnghttp2-dev libbrotli-dev libzstd-dev libsimdjson-dev libcurl4-openssl-dev \
      libmicrohttpd-dev libre2-dev libtomlplusplus-dev libhyperscan-dev ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DLLMTAP_BUILD_TESTS=OFF \
      -DLLMTAP_BUILD_BENCH=OFF \
    && cmake --build /build -j"$(nproc)" --target llmtap \
    && strip /build/llmtap

FROM debian:12-slim
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      libbpf1 libelf1 zlib1g libssl3 libspdlog1.10 libfmt9 libyaml-cpp0.7 libnghttp2-14 \
      libbrotli1 libzstd1 libsimdjson14 libcurl4 libmicrohttpd12 libre2-9 libhyperscan5 \
      ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/llmtap /usr/sbin/llmtap
COPY policies/ /usr/share/llmtap/policies/
ENTRYPOINT ["/usr/sbin/llmtap"]
CMD ["daemon"]
