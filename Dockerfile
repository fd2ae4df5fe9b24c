# One image for every criticloop service: the command selects the binary
# (criticloop-api, criticloop-orchestrator, criticloop-generation, criticloop-judging, criticloop-reward,
# criticloop-training, criticloop-evaluation, and the `criticloop` CLI).
#
#   docker build -t criticloop:local .
#   docker run --rm criticloop:local criticloop-orchestrator
#
# libtorch comes from the PyPI torch wheel, exactly as scripts/setup does it: the build stage installs the
# wheel into a virtual environment and builds with LIBTORCH_USE_PYTORCH=1; the runtime stage keeps only the
# shared libraries (torch/lib, plus the nvidia/* CUDA libraries that torch/lib finds through its RPATH
# `$ORIGIN/../../nvidia/...`, so the site-packages layout is kept as is).
# The PyPI wheel of torch 2.13.0 is built for CUDA 13 (about 3.7 GB of libraries; GPU hosts need a driver
# that supports CUDA 13). For a CPU-only, much smaller image:
#   --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
#
# Cache mounts need BuildKit (the default builder of Docker 23+ and of `docker compose`).

ARG RUST_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# --- build ----------------------------------------------------------------------------------------------
FROM ${RUST_IMAGE} AS build
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://pypi.org/simple

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv pkg-config \
 && rm -rf /var/lib/apt/lists/*

# libtorch, from the torch wheel (its own layer: it changes far less often than the sources)
RUN python3 -m venv /opt/torch-venv \
 && /opt/torch-venv/bin/pip install --no-cache-dir --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}" \
 && sp=$(/opt/torch-venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
 && mkdir -p /out/torch/site-packages/torch \
 && cp -a "$sp/torch/lib" /out/torch/site-packages/torch/lib \
 && if [ -d "$sp/nvidia" ]; then cp -a "$sp/nvidia" /out/torch/site-packages/nvidia; fi

# SQLX_OFFLINE: no database during the image build; sqlx's compile-time checked queries (if any) read the
# committed .sqlx/ query data instead.
ENV VIRTUAL_ENV=/opt/torch-venv \
    PATH=/opt/torch-venv/bin:$PATH \
    LIBTORCH_USE_PYTORCH=1 \
    SQLX_OFFLINE=true

WORKDIR /src
COPY . .

# The target directory is a cache mount, so the binaries are copied out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --workspace \
 && mkdir -p /out/bin \
 && for bin in criticloop criticloop-api criticloop-orchestrator criticloop-generation criticloop-judging \
               criticloop-reward criticloop-training criticloop-evaluation; do \
      cp "target/release/$bin" /out/bin/; \
    done

# --- runtime --------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime

# ca-certificates: TLS to brokers, databases, object stores and OpenAI-compatible servers.
# curl: the health checks in compose.yaml (`curl -fsS http://127.0.0.1:<port>/readyz`).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 criticloop \
 && useradd --system --uid 10001 --gid criticloop --home-dir /var/lib/criticloop --shell /usr/sbin/nologin criticloop \
 && mkdir -p /var/lib/criticloop/artifacts \
 && chown -R criticloop:criticloop /var/lib/criticloop

COPY --from=build /out/torch /opt/torch
COPY --from=build /out/bin/ /usr/local/bin/

# Service configuration (CRITICLOOP_SECTION__KEY) is left to compose.yaml / the Helm chart: each service
# gets only the sections it reads.
ENV LD_LIBRARY_PATH=/opt/torch/site-packages/torch/lib \
    RUST_LOG=info

# A named volume mounted on /var/lib/criticloop/artifacts starts out owned by this user.
USER 10001:10001
WORKDIR /var/lib/criticloop
EXPOSE 8080 9090
CMD ["criticloop-api"]
