# unroot's own image: the seeds' advice applied to ourselves (numeric non-root user,
# nothing writable but what Kubernetes mounts, no shell tricks at run time).
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY rules ./rules
COPY bot ./bot
# The helm extra: charts are rendered with Helm's own engine (helm-python-sdk, Apache-2.0).
RUN pip install --no-cache-dir --prefix=/install '.[helm]'

FROM python:3.12-slim
COPY --from=build /install /usr/local
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORT=8080
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["unroot"]
# `serve` takes webhooks; with REDIS_URL, run more containers of this image with `worker`.
CMD ["serve"]
