# Image for every process of the app: the web app (default command), the Temporal worker
# (`python worker.py`) and the one-shot migrate step (`python -m ops.migrate`), as the services
# of docker-compose.yml set them.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    INSCRIPTIONS_DATA_DIR=/data \
    INSCRIPTIONS_ENVIRONMENT=production \
    FORWARDED_ALLOW_IPS=""
# Production by default: a deployment that forgets INSCRIPTIONS_ENVIRONMENT gets Secure
# `__Host-` cookies, HSTS and no API docs, and refuses to start without a long
# INSCRIPTIONS_SECRET_KEY, instead of running silently as development.
# FORWARDED_ALLOW_IPS (uvicorn's variable name, read by the app itself, hence uvicorn's own
# handling off with --no-proxy-headers below): the reverse proxies whose X-Forwarded-For gives the
# client's address and whose X-Request-Start gives the instant deadlines are judged by,
# comma-separated addresses or networks. Empty by default: no peer is trusted, both headers are
# ignored. Behind a proxy, set it to the proxy's address (never "*"), or every candidate shares
# the proxy's address in the rate limits and any client can choose its address and its time.
# WEB_CONCURRENCY (uvicorn's): web processes sharing the port; one per core the container gets.

# Unprivileged user that runs the app; it owns only the data directory.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /app --shell /usr/sbin/nologin app

WORKDIR /app

# Only what the app needs at runtime (no tests, dev tools, scripts or local state).
COPY pyproject.toml uv.lock worker.py ./
COPY domain/ domain/
COPY workflows/ workflows/
COPY activities/ activities/
COPY infra/ infra/
COPY web/ web/
COPY letters/ letters/
COPY ops/ ops/
COPY migrations/ migrations/

# The project with the PostgreSQL driver (asyncpg), its dependencies at the versions of uv.lock
# (what CI tested; checked against their hashes). They publish binary wheels for CPython 3.11 on
# Linux amd64/arm64, so the slim image needs no compiler. uv (locked too) only exports the list.
RUN uv_version="$(python -c 'import tomllib; print(next(p["version"] for p in tomllib.load(open("uv.lock", "rb"))["package"] if p["name"] == "uv"))')" \
 && pip install "uv==$uv_version" \
 && uv export --quiet --frozen --extra postgres --no-emit-project -o /tmp/requirements.txt \
 && pip uninstall --yes uv \
 && pip install --require-hashes -r /tmp/requirements.txt \
 && pip install --no-deps . \
 && rm -rf build *.egg-info /tmp/requirements.txt

# Uploaded and generated files (and the SQLite file if no INSCRIPTIONS_DATABASE_URL is given).
# A named volume mounted here starts with this directory's ownership.
RUN mkdir -p /data && chown app:app /data
VOLUME ["/data"]

USER app
EXPOSE 8000

CMD ["uvicorn", "web.app:app", "--host", "0.0.0.0", "--port", "8000", "--timeout-keep-alive", "75", "--no-proxy-headers"]
