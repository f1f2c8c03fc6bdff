# Echo Notify: a Docker container action. Built by the runner at the start of each job.
# BASE_IMAGE is overridable so tests can build offline from a local stand-in image.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
# Offline builds pass a local wheel server here (PIP_INDEX_URL / PIP_FIND_LINKS / PIP_NO_INDEX).
ARG PIP_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_NO_INDEX
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements.txt /tmp/requirements.txt
RUN python3 -m venv /venv \
    && /venv/bin/pip install --only-binary=:all: -r /tmp/requirements.txt \
    && /venv/bin/pip uninstall --yes pip \
    && find /venv -name '__pycache__' -type d -prune -exec rm -rf {} +

FROM ${BASE_IMAGE}
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY --from=build /venv /venv
COPY templates /app/templates
COPY echo_notify /app/echo_notify
COPY entrypoint.py /app/entrypoint.py
# Root on purpose: the runner's /github/file_commands files belong to the runner's user.
# Absolute paths: a workflow may replace PATH through GITHUB_ENV, and the workdir is the workspace.
ENTRYPOINT ["/venv/bin/python", "/app/entrypoint.py"]
