# Echo Notify's image. Published prebuilt by .github/workflows/release.yml and pulled by the
# resolve step of action.yml; a runner builds it from this file only as the fallback.
# BASE_IMAGE is overridable so tests can build offline from a local stand-in image.
# No BuildKit-only syntax: act and older runners build without it.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
# Offline builds pass a local wheel server here (PIP_INDEX_URL / PIP_FIND_LINKS / PIP_NO_INDEX).
ARG PIP_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_NO_INDEX
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements.txt /tmp/requirements.txt
# Bytecode compiled here, not at each start: unchecked-hash .pyc files are used as they are
# (no source check, no mtime), which fits an image nobody edits.
RUN python3 -m venv /venv \
    && /venv/bin/pip install --require-hashes --only-binary=:all: -r /tmp/requirements.txt \
    && /venv/bin/pip uninstall --yes pip \
    && find /venv -name '__pycache__' -type d -prune -exec rm -rf {} + \
    && /venv/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /venv
COPY templates /app/templates
COPY echo_notify /app/echo_notify
COPY entrypoint.py /app/entrypoint.py
# -m imports the package from the working directory (this stage only: the runner sets its own).
WORKDIR /app
RUN /venv/bin/python -m compileall -q --invalidation-mode unchecked-hash /app/echo_notify \
    && /venv/bin/python -m echo_notify.render

FROM ${BASE_IMAGE}
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY --from=build /venv /venv
COPY --from=build /app /app
# Root on purpose: the runner's /github/file_commands files belong to the runner's user.
# Absolute paths: a workflow may replace PATH through GITHUB_ENV, and the workdir is the workspace.
ENTRYPOINT ["/venv/bin/python", "/app/entrypoint.py"]

# Last, so their values never invalidate the layers above. SOURCE_DIGEST is
# `bash resolve-image.sh digest .`: the resolve step runs this image only when it matches.
ARG SOURCE_DIGEST=""
ARG VERSION=""
ARG REVISION=""
ARG SOURCE=""
LABEL dev.echo-notify.source-digest=$SOURCE_DIGEST \
      org.opencontainers.image.source=$SOURCE \
      org.opencontainers.image.version=$VERSION \
      org.opencontainers.image.revision=$REVISION \
      org.opencontainers.image.title="Echo Notify" \
      org.opencontainers.image.description="Posts a pipeline's metrics file to Slack through Echo"
