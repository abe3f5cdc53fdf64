# Deskwatch: slim, non-root image running `deskwatch serve` (Bolt over HTTP + scheduler).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY integrations ./integrations
COPY jobs ./jobs
RUN pip install --no-cache-dir --upgrade pip \
 && pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DESKWATCH_CONFIG=/etc/deskwatch/deskwatch.yaml \
    DATABASE_URL=sqlite:////var/lib/deskwatch/deskwatch.db
RUN useradd --system --uid 10001 --home-dir /var/lib/deskwatch --create-home deskwatch \
 && mkdir -p /etc/deskwatch && chown deskwatch /etc/deskwatch
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY deskwatch.example.yaml /etc/deskwatch/deskwatch.example.yaml
USER deskwatch
WORKDIR /var/lib/deskwatch
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"
ENTRYPOINT ["deskwatch"]
CMD ["serve", "--host", "0.0.0.0", "--port", "3000"]
