# syntax=docker/dockerfile:1
# pruned: build with the official Swift image, run on Debian slim with only the shared
# libraries the binary links (libssl3/libcrypto, zlib, libstdc++, libgcc_s, glibc).
# `scripts/check_deploy.py` checks this file against the service's sources.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------- build
FROM ${SWIFT_IMAGE} AS build
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update -q \
 && apt-get install -y -q --no-install-recommends libssl-dev zlib1g-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build

# Dependencies first, in their own layer, so that a source change does not fetch them again.
COPY Package.* ./
RUN swift package resolve

COPY . .
# Swift's runtime and Foundation linked in statically: the run image needs no Swift toolchain.
# Debug info goes; the symbol table stays, for the crash backtraces below.
RUN swift build -c release --product pruned --static-swift-stdlib \
 && mkdir -p /staging \
 && cp "$(swift build -c release --product pruned --static-swift-stdlib --show-bin-path)/pruned" /staging/pruned \
 && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/swift-backtrace-static \
 && strip --strip-debug /staging/pruned

# ---------------------------------------------------------------------------- run
FROM ${RUNTIME_IMAGE}
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update -q \
 && apt-get install -y -q --no-install-recommends \
      libssl3 zlib1g libstdc++6 libgcc-s1 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 pruned \
 && useradd --system --uid 10001 --gid pruned --home-dir /data --no-create-home --shell /usr/sbin/nologin pruned \
 && mkdir -p /data \
 && chown pruned:pruned /data

COPY --from=build /staging/pruned /usr/local/bin/pruned
COPY --from=build /staging/swift-backtrace-static /usr/libexec/swift/linux/swift-backtrace-static

# A crash prints a symbolicated backtrace of every thread to stderr instead of only dying.
ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/libexec/swift/linux/swift-backtrace-static
ENV PRUNED_DATA_DIR=/data \
    PRUNED_PORT=8080

USER pruned:pruned
WORKDIR /data
# Jobs, uploads and results: keep them on a volume so they survive a new container.
VOLUME ["/data"]
EXPOSE 8080

# Liveness only: /readyz is 503 while recovering and draining, which is not unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1

# SIGTERM: stop accepting, finish requests in flight (--grace-period, 10 s by default), put
# running jobs back in the queue, exit 0. Give the container longer than that to stop
# (`docker stop -t 30`, compose stop_grace_period, k8s terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/pruned"]
CMD ["serve"]
