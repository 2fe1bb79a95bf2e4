# One image for web (gunicorn), worker and beat (Celery) and the one-off migrate job.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# gettext compiles the translations; the PostgreSQL client gives pg_dump/pg_restore for backups
# run inside the web container as well as the db one.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so a code change does not reinstall them (the project ships no package of
# its own: pyproject.toml lists dependencies only).
COPY pyproject.toml ./
RUN pip install .

COPY . .

# Static files are part of the image: hashed, compressed and served by WhiteNoise. The key below
# only lets settings load during the build; the running containers get theirs from .env.
RUN if find . -path '*/LC_MESSAGES/*.po' | grep -q .; then \
        python manage.py compilemessages --ignore=.venv -v0; \
    fi \
    && DEBUG=0 SECRET_KEY=build-only-not-a-secret python manage.py collectstatic --noinput -v0

RUN useradd --create-home --uid 1000 portal \
    && mkdir -p /app/media \
    && chown portal:portal /app/media
USER portal

ENV DEBUG=0 \
    MEDIA_ROOT=/app/media \
    PORT=8000
EXPOSE 8000

CMD ["gunicorn", "--config", "gunicorn.conf.py", "portal.wsgi"]
