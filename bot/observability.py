"""Structured JSON logs with secrets redacted, and Prometheus metrics for /metrics."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from pythonjsonlogger.json import JsonFormatter

from bot.github import Counters

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_STANDARD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class Redactor(logging.Filter):
    """Replaces every known secret (tokens, the webhook secret, the key) in a log record's text."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, secret: str) -> None:
        if secret and len(secret) >= 8:
            self._secrets.add(secret)
            for line in secret.splitlines():  # a PEM key may be logged line by line
                if len(line.strip()) >= 16:
                    self._secrets.add(line.strip())

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        text = record.getMessage()
        exc = record.exc_text or ""
        if any(secret in text or secret in exc for secret in self._secrets):
            record.msg, record.args = self.redact(text), ()
            record.exc_text = self.redact(exc) or None
        # Fields passed with `extra=` are written out by the JSON formatter too.
        for name, field_value in list(vars(record).items()):
            if name not in _STANDARD_FIELDS and isinstance(field_value, str):
                redacted = self.redact(field_value)
                if redacted != field_value:
                    setattr(record, name, redacted)
        return True

    def redact(self, text: str) -> str:
        """`text` with every known secret replaced."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "[redacted]")
        return text


def configure_logging_from_env(redactor: Redactor, env: Mapping[str, str]) -> None:
    """LOG_LEVEL (default INFO) and LOG_FORMAT (`json`, the default, or `text`), as every App process reads them."""
    configure_logging(env.get("LOG_LEVEL", "INFO"), redactor, as_json=env.get("LOG_FORMAT", "json") == "json")


def configure_logging(level: str, redactor: Redactor, as_json: bool = True) -> None:
    """Root logging: one line of JSON per record (extra fields such as repo, sha, delivery kept)."""
    handler = logging.StreamHandler()
    if as_json:
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(redactor)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class _ClientCounters(Collector):
    def __init__(self, counters: Counters) -> None:
        self._counters = counters

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily("unroot_github_api_calls", "Calls made to GitHub", value=self._counters.calls)
        yield CounterMetricFamily(
            "unroot_github_retries", "Calls retried after a fault or limit", value=self._counters.retries
        )
        yield CounterMetricFamily(
            "unroot_github_rate_limited", "Rate-limit answers from GitHub", value=self._counters.rate_limited
        )


class _WorkerLoop(Collector):
    """The job worker loop's health, set from the queue on each scrape; absent where no loop runs
    (a web process that only enqueues has none, and a 0 there would read as an outage)."""

    def __init__(self) -> None:
        self.up: bool | None = None
        self.restarts = 0

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        if self.up is None:
            return
        yield GaugeMetricFamily(
            "unroot_worker_up",
            "1 while the job worker loop runs, 0 while a new one is being started",
            value=int(self.up),
        )
        yield CounterMetricFamily(
            "unroot_worker_restarts",
            "Times the job worker loop ended on its own and was started again",
            value=self.restarts,
        )


class Metrics:
    """The App's metrics, in a registry of its own (nothing global, nothing at import)."""

    def __init__(self, counters: Counters) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "unroot_deliveries", "Webhook deliveries by event and answer", ["event", "answer"], registry=self.registry
        )
        self.jobs = Counter("unroot_jobs", "Jobs by outcome", ["outcome"], registry=self.registry)
        self.job_seconds = Histogram(
            "unroot_job_duration_seconds",
            "Time from job start to completed check run",
            buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
            registry=self.registry,
        )
        # Set from the queue on each scrape: with Redis these are the whole fleet's figures.
        self.queue_depth = Gauge("unroot_queue_depth", "Jobs waiting to start", registry=self.registry)
        self.running = Gauge("unroot_jobs_running", "Jobs being worked on", registry=self.registry)
        self.queue_up = Gauge(
            "unroot_queue_up",
            "1 when the queue (Redis, if configured) answered the last scrape",
            registry=self.registry,
        )
        self.registry.register(_ClientCounters(counters))
        self._worker = _WorkerLoop()
        self.registry.register(self._worker)

    def observe_worker(self, up: bool | None, restarts: int) -> None:
        """The worker loop's state (None: this process runs none) and its restarts so far."""
        self._worker.up, self._worker.restarts = up, restarts

    def render(self) -> bytes:
        return generate_latest(self.registry)
