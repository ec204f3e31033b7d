# netpol image: the netpol binary, a pinned helm and the pinned Cilium chart, so the CI
# component's jobs (and `netpol install-cilium`) work without internet access.
#
#   docker build -t netpol .                     # helm downloaded and checksum-verified
#   scripts/build-image.sh                       # docker, or buildah where no engine answers
#
# Build arguments:
#   HELM_BINARY       path, inside the build context, of a helm binary to use (offline
#                     builds); empty: download helm HELM_VERSION and verify its sha256
#   HELM_VERSION      helm release to download when HELM_BINARY is empty
#   CILIUM_CHART_DIR  path, inside the build context, of the unpacked Cilium chart the image
#                     carries; the default is the small test chart of this repository, a
#                     release passes the real chart (scripts/build-image.sh --fetch-cilium-chart)
#   DEBIAN_IMAGE, DEBIAN_SLIM_IMAGE  base images (build, runtime)
#   NETPOL_VERSION, NETPOL_REVISION, CILIUM_CHART_VERSION  labels and `netpol version`
#
# There is no ENTRYPOINT: GitLab runs the job's `script:` lines in the image's shell.

ARG DEBIAN_IMAGE=debian:bookworm
ARG DEBIAN_SLIM_IMAGE=debian:bookworm-slim

# --- build: compile, run the unit tests, list the runtime packages -----------------------
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
# The Debian packages that own the shared libraries netpol links: exactly what the runtime
# stage installs.
RUN set -e; \
    for lib in $(ldd /build/netpol | awk '$3 ~ /^\// {print $3}'); do \
      dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null \
        || dpkg -S "/usr$lib"; \
    done > /tmp/owners; \
    cut -d: -f1 /tmp/owners | sort -u > /build/runtime-packages; \
    cat /build/runtime-packages

# --- helm: the given binary, or a checksum-verified download ------------------------------
FROM ${DEBIAN_IMAGE} AS helm
ARG HELM_BINARY=
ARG HELM_VERSION=v3.17.2
# The Dockerfile is always there, so this COPY also works when HELM_BINARY is empty.
COPY Dockerfile ${HELM_BINARY} /tmp/helm-input/
RUN set -eu; \
    if [ -n "${HELM_BINARY}" ]; then \
      install -m 0755 "/tmp/helm-input/$(basename "${HELM_BINARY}")" /usr/local/bin/helm; \
    else \
      apt-get update -qq && apt-get install -y -qq --no-install-recommends curl ca-certificates; \
      cd /tmp; \
      tarball="helm-${HELM_VERSION}-linux-amd64.tar.gz"; \
      curl -fsSLO "https://get.helm.sh/${tarball}"; \
      curl -fsSL "https://get.helm.sh/${tarball}.sha256sum" | sha256sum -c -; \
      tar -xzf "${tarball}" linux-amd64/helm; \
      install -m 0755 linux-amd64/helm /usr/local/bin/helm; \
    fi; \
    /usr/local/bin/helm version --short

# --- runtime -------------------------------------------------------------------------------
FROM ${DEBIAN_SLIM_IMAGE}
ARG DEBIAN_SLIM_IMAGE
ARG HELM_VERSION=v3.17.2
ARG CILIUM_CHART_DIR=charts/cilium-test
ARG NETPOL_VERSION=0.1.0
ARG NETPOL_REVISION=unknown
ARG CILIUM_CHART_VERSION=unknown
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=build /build/runtime-packages /tmp/runtime-packages
RUN apt-get update -qq \
 && xargs -a /tmp/runtime-packages apt-get install -y -qq --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages
COPY --from=build /build/netpol /usr/local/bin/netpol
COPY --from=helm /usr/local/bin/helm /usr/local/bin/helm
# The chart `netpol install-cilium` installs by default (src/cilium/defaults.hpp).
COPY ${CILIUM_CHART_DIR} /usr/share/netpol/charts/cilium
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/netpol --shell /bin/sh netpol \
 && netpol version && helm version --short
USER 10001:10001
WORKDIR /home/netpol
LABEL org.opencontainers.image.title="netpol" \
      org.opencontainers.image.description="NetworkPolicy for GitLab pipelines: detect the provider, install Cilium, apply policies, report drops" \
      org.opencontainers.image.version="${NETPOL_VERSION}" \
      org.opencontainers.image.revision="${NETPOL_REVISION}" \
      org.opencontainers.image.base.name="${DEBIAN_SLIM_IMAGE}" \
      io.netpol.helm.version="${HELM_VERSION}" \
      io.netpol.cilium-chart.version="${CILIUM_CHART_VERSION}" \
      io.netpol.cilium-chart.path="/usr/share/netpol/charts/cilium"
