"""Which transformer turns which event into statements: one registry keyed by event name.

Family modules register their transformers with `@register("event.name", ...)`; importing
`olx_spark.xapi.families` fills the registry. `transform_event` is the one entry point: it
returns the statements for an event, or the reason it gives none (no transformer, or the event
lacks what the transformer needs), which the job counts by event type.
"""

from __future__ import annotations

from collections.abc import Callable

from olx_spark.xapi.event import Event, Unusable
from olx_spark.xapi.statement import Settings, Statement

Transformer = Callable[[Event, Settings], list[Statement]]

REGISTRY: dict[str, Transformer] = {}

SKIP_NO_TRANSFORMER = "no_transformer"
SKIP_NO_USER = "no_user"
SKIP_INCOMPLETE = "incomplete"  # the transformer found a required field missing


def register(*names: str) -> Callable[[Transformer], Transformer]:
    def add(func: Transformer) -> Transformer:
        for name in names:
            if name in REGISTRY:
                raise ValueError(f"two transformers for {name!r}")
            REGISTRY[name] = func
        return func

    return add


def _load_families() -> None:
    # Imported for their `@register` side effect.
    import olx_spark.xapi.families  # noqa: F401


def transformer_for(name: str) -> Transformer | None:
    if not REGISTRY:
        _load_families()
    return REGISTRY.get(name)


def event_names() -> list[str]:
    """Every event name with a transformer."""
    if not REGISTRY:
        _load_families()
    return sorted(REGISTRY)


def transform_event(event: Event, settings: Settings) -> tuple[list[Statement], str | None]:
    """(statements, None), or ([], skip reason)."""
    func = transformer_for(event.name)
    if func is None:
        return [], SKIP_NO_TRANSFORMER
    try:
        statements = func(event, settings)
    except Unusable:
        return [], SKIP_INCOMPLETE
    return statements, None
