"""``/metrics`` as Prometheus reads it: the text format, or OpenMetrics when the scraper's
``Accept`` asks for it; with several workers (``PROMETHEUS_MULTIPROC_DIR``, set by
``maria serve --workers N``), the numbers of every worker, summed as each metric says."""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _registry() -> Collector:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


def render(accept: str | None) -> tuple[bytes, str]:
    """The exposition body and its content type for a scraper sending ``accept``."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(_registry()), content_type
