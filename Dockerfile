# netpol image: the netpol binary, a pinned helm and the pinned real Cilium chart, so the CI
# component's jobs (and `netpol install-cilium`) work without internet access. The runtime is
# `FROM scratch` plus a root file system that scripts/image-rootfs.sh assembles: netpol and the
# shared libraries it links, the dynamic loader, a static busybox for /bin/sh, the CA bundle,
# helm and the chart (docs/image.md).
#
#   docker build -t netpol .                     # helm and the Cilium 1.20.0 chart downloaded,
#                                                # both checksum-verified
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/netpol:TAG --push .
#                                                # both platforms: every stage runs once per
#                                                # platform (QEMU for the foreign one), so
#                                                # nothing is cross-compiled
#   scripts/build-image.sh                       # docker, or buildah where no engine answers
#
# Build arguments:
#   HELM_BINARY       path, inside the build context, of a helm binary to use (offline
#                     builds; it must be for the platform being built); empty: download helm
#                     HELM_VERSION for TARGETARCH and verify its sha256
#   HELM_VERSION      helm release to download when HELM_BINARY is empty
#   CILIUM_CHART_FILE path, inside the build context, of the packaged Cilium chart (.tgz, as
#                     Cilium's Helm repository serves it) the image carries; empty: `helm pull`
#                     CILIUM_CHART_VERSION from https://helm.cilium.io
#   CILIUM_CHART_VERSION, CILIUM_CHART_SHA256  the chart's version and the sha256 it must have
#                     (charts/cilium-charts.sha256); a chart with another digest fails the build
#   DEBIAN_IMAGE      the Debian the build and helm stages run on, and where the runtime's
#                     libraries, busybox and CA bundle come from
#   NETPOL_VERSION, NETPOL_REVISION  labels and `netpol version`
#   BUILD_JOBS        parallel compile jobs (empty: the number of CPUs)
#
# There is no ENTRYPOINT: GitLab runs the job's `script:` lines in the image's shell.

ARG DEBIAN_IMAGE=debian:bookworm

# --- build: compile and run the unit tests, on the platform being built ------------------
FROM ${DEBIAN_IMAGE} AS build
ARG NETPOL_REVISION=unknown
# Parallel compile jobs (empty: the number of CPUs).
ARG BUILD_JOBS=
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh --build-only && rm -rf /var/lib/apt/lists/*
COPY . .
RUN NETPOL_GIT_REVISION="${NETPOL_REVISION}" cmake -S . -B /build -G Ninja \
      -DCMAKE_BUILD_TYPE=Release -DNETPOL_E2E_TESTS=OFF -DNETPOL_CI_TESTS=OFF \
 && cmake --build /build ${BUILD_JOBS:+-j${BUILD_JOBS}} --target netpol netpol_unit_tests \
 && ctest --test-dir /build -L unit --output-on-failure --no-tests=error \
 && strip /build/netpol \
 && /build/netpol version

# --- helm and the chart: given in the build context, or checksum-verified downloads --------
FROM ${DEBIAN_IMAGE} AS helm
# Set by BuildKit (and buildah) to the platform being built; no default here, because a
# default would override the automatic value. Without it: the stage's own architecture.
ARG TARGETARCH
ARG HELM_BINARY=
ARG HELM_VERSION=v3.17.2
ARG CILIUM_CHART_FILE=
ARG CILIUM_CHART_VERSION=1.20.0
ARG CILIUM_CHART_SHA256=c5f013912360d1a334f44ef25f36da59ba3414cdb48f466ee12d0c4fdff27883
# The Dockerfile is always there, so these COPYs also work when the arguments are empty.
COPY Dockerfile ${HELM_BINARY} /tmp/helm-input/
COPY Dockerfile ${CILIUM_CHART_FILE} /tmp/chart-input/
RUN set -eu; \
    if [ -n "${HELM_BINARY}" ]; then \
      install -m 0755 "/tmp/helm-input/$(basename "${HELM_BINARY}")" /usr/local/bin/helm; \
    else \
      apt-get update -qq && apt-get install -y -qq --no-install-recommends curl ca-certificates; \
      cd /tmp; \
      arch="${TARGETARCH:-$(dpkg --print-architecture)}"; \
      tarball="helm-${HELM_VERSION}-linux-${arch}.tar.gz"; \
      curl -fsSLO "https://get.helm.sh/${tarball}"; \
      curl -fsSL "https://get.helm.sh/${tarball}.sha256sum" | sha256sum -c -; \
      tar -xzf "${tarball}" "linux-${arch}/helm"; \
      install -m 0755 "linux-${arch}/helm" /usr/local/bin/helm; \
    fi; \
    /usr/local/bin/helm version --short
# The chart exactly as published (no unpacking), so its digest can be checked here and by
# `netpol version` at run time.
RUN set -eu; \
    if [ -n "${CILIUM_CHART_FILE}" ]; then \
      cp "/tmp/chart-input/$(basename "${CILIUM_CHART_FILE}")" /tmp/cilium.tgz; \
    else \
      [ -f /etc/ssl/certs/ca-certificates.crt ] || { apt-get update -qq \
        && apt-get install -y -qq --no-install-recommends ca-certificates; }; \
      helm pull cilium --repo https://helm.cilium.io --version "${CILIUM_CHART_VERSION}" \
        --destination /tmp/chart-pull; \
      mv "/tmp/chart-pull/cilium-${CILIUM_CHART_VERSION}.tgz" /tmp/cilium.tgz; \
    fi; \
    echo "${CILIUM_CHART_SHA256}  /tmp/cilium.tgz" | sha256sum -c -; \
    helm show chart /tmp/cilium.tgz | grep -qx "version: ${CILIUM_CHART_VERSION}"

# --- rootfs: exactly what the runtime holds, assembled by the script the tests run --------
FROM build AS rootfs
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends busybox-static \
 && rm -rf /var/lib/apt/lists/*
COPY --from=helm /usr/local/bin/helm /tmp/rootfs-input/helm
COPY --from=helm /tmp/cilium.tgz /tmp/rootfs-input/cilium.tgz
# The chart lands at /usr/share/netpol/charts/cilium.tgz, where `netpol install-cilium` looks
# by default (src/cilium/defaults.hpp).
RUN scripts/image-rootfs.sh /rootfs /build/netpol /tmp/rootfs-input/helm /tmp/rootfs-input/cilium.tgz

# --- runtime ---------------------------------------------------------------------------------
FROM scratch
ARG DEBIAN_IMAGE
ARG HELM_VERSION=v3.17.2
ARG NETPOL_VERSION=0.1.0
ARG NETPOL_REVISION=unknown
ARG CILIUM_CHART_VERSION=1.20.0
ARG CILIUM_CHART_SHA256=c5f013912360d1a334f44ef25f36da59ba3414cdb48f466ee12d0c4fdff27883
# Ownership and modes as the script set them (root, /tmp 1777, /home/netpol uid 10001):
# COPY --from keeps them.
COPY --from=rootfs /rootfs/ /
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 10001:10001
WORKDIR /home/netpol
RUN netpol version && helm version --short
# base.name: the image the runtime's libraries come from; rebuild when it changes.
LABEL org.opencontainers.image.title="netpol" \
      org.opencontainers.image.description="NetworkPolicy for GitLab pipelines: detect the provider, install Cilium, apply policies, report drops" \
      org.opencontainers.image.version="${NETPOL_VERSION}" \
      org.opencontainers.image.revision="${NETPOL_REVISION}" \
      org.opencontainers.image.base.name="${DEBIAN_IMAGE}" \
      io.netpol.helm.version="${HELM_VERSION}" \
      io.netpol.cilium-chart.version="${CILIUM_CHART_VERSION}" \
      io.netpol.cilium-chart.sha256="${CILIUM_CHART_SHA256}" \
      io.netpol.cilium-chart.path="/usr/share/netpol/charts/cilium.tgz"
