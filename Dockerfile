FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LEADFLOW_ENV=production
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir --upgrade "pip>=25.1" && pip install --no-cache-dir --group runtime
COPY . .
RUN SECRET_KEY=build-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput -v0
RUN useradd --system --uid 10001 leadflow && chown -R leadflow /app
USER leadflow
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "leadflow.wsgi"]
