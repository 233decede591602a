"""One module per event family (`specs/xapi.md`, "Event families"); importing this package
registers every transformer in `olx_spark.xapi.registry`."""

from olx_spark.xapi.families import (  # noqa: F401
    completion,
    enrollment,
    exam,
    forum,
    grading,
    navigation,
    problem,
    video,
)
