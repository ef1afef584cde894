# The operator's image: `gpai` (run, check, crds) and nothing else.
#
#   docker build -t ghcr.io/gpai-dev/gpai-operator:0.1.0 .
#
# Two stages on the same base, so the virtual environment built in the first runs unchanged in
# the second: build a wheel of the package and install it with its dependencies into /opt/gpai,
# then copy only that into a fresh slim image that runs as a numeric non-root user (the chart's
# podSecurityContext uses the same UID and a read-only root filesystem).
# Not built in this repository's CI: the machines it runs on have no container engine.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator/ operator/
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/gpai \
 && /opt/gpai/bin/pip install /wheels/*.whl \
 && /opt/gpai/bin/pip uninstall --yes pip setuptools

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="gpai-operator" \
      org.opencontainers.image.description="Kubernetes policy operator for the EU AI Act's general-purpose AI model obligations" \
      org.opencontainers.image.source="https://github.com/gpai-dev/gpai-operator" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/gpai/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
COPY --from=build /opt/gpai /opt/gpai
USER 10001:10001
EXPOSE 9443 8080 8081
ENTRYPOINT ["gpai"]
CMD ["run"]
