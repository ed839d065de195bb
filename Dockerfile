# One image for every mynumber-net service; compose.yaml picks the service with `command`.
# Offline (the supported path, as on a municipality's closed network): `make wheels` fills
# wheelhouse/ with every locked runtime dependency and its requirements.txt; nothing is fetched.
# Online (no wheelhouse/): pip fetches uv, exports uv.lock and installs from the package index.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:${PATH} \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# `wheelhous[e]` matches wheelhouse/ when it exists and nothing otherwise; its files land in /build.
COPY pyproject.toml uv.lock wheelhous[e] /build/
RUN set -eu; \
    python3 -m venv /opt/venv; \
    cd /build; \
    if [ -f requirements.txt ]; then \
      pip install --no-index --find-links /build -r requirements.txt; \
    else \
      pip install uv; \
      uv export --frozen --no-dev --no-emit-project --no-hashes -o requirements.txt; \
      pip install -r requirements.txt; \
      pip uninstall -y uv; \
    fi; \
    cd /; rm -rf /build

RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app /data \
    && chown app:app /data

WORKDIR /app
COPY services ./services
COPY jlis ./jlis
COPY broker ./broker
COPY municipality ./municipality
COPY portal ./portal
COPY devnet ./devnet

USER app
# Keys (and, without PostgreSQL, the SQLite database) live here: one volume per service.
VOLUME /data
EXPOSE 8000
