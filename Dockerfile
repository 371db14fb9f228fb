# Front-end assets from the npm registry (Chart.js), copied into the web app's static files.
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LEADFLOW_ENV=production
WORKDIR /app
COPY pyproject.toml requirements/runtime.lock ./
RUN pip install --no-cache-dir --upgrade "pip>=25.1" \
 && pip install --no-cache-dir --require-hashes -r runtime.lock
COPY . .
# The source map too: the file names it, and the manifest storage follows that reference.
COPY --from=assets /build/node_modules/chart.js/dist/chart.umd.min.js /build/node_modules/chart.js/dist/chart.umd.min.js.map web/static/web/vendor/
# The Japanese catalogue, compiled with Babel (a runtime dependency), then the static files.
RUN pybabel -q compile -d locale -D django \
 && SECRET_KEY=build-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput -v0
RUN useradd --system --uid 10001 leadflow && chown -R leadflow /app
USER leadflow
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "leadflow.wsgi"]
