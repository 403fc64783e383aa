# Image for both processes of the app: the web app (default command) and the Temporal worker
# (`python worker.py`, set by the `worker` service in docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    INSCRIPTIONS_DATA_DIR=/data

# Unprivileged user that runs the app; it owns only the data directory.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /app --shell /usr/sbin/nologin app

WORKDIR /app

# Only what the app needs at runtime (no tests, dev tools, scripts or local state).
COPY pyproject.toml worker.py ./
COPY domain/ domain/
COPY workflows/ workflows/
COPY activities/ activities/
COPY infra/ infra/
COPY web/ web/
COPY letters/ letters/
COPY ops/ ops/

# The project with the PostgreSQL driver (asyncpg). Its dependencies publish binary wheels for
# CPython 3.11 on Linux amd64/arm64, so the slim image needs no compiler. Build leftovers go.
RUN pip install ".[postgres]" \
 && rm -rf build *.egg-info

# Uploaded and generated files (and the SQLite file if no INSCRIPTIONS_DATABASE_URL is given).
# A named volume mounted here starts with this directory's ownership.
RUN mkdir -p /data && chown app:app /data
VOLUME ["/data"]

USER app
EXPOSE 8000

CMD ["uvicorn", "web.app:app", "--host", "0.0.0.0", "--port", "8000"]
