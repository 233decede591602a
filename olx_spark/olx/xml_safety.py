"""Parse untrusted XML without letting it reach outside itself or explode.

Course archives come from anyone. Every XML file of a course is parsed here, with entity
expansion, DTD loading and network access off; a file that declares entities (the
"billion laughs" bomb and friends) is refused outright instead of parsed, and a malformed file
becomes an `XmlProblem` that names the file and says what to fix.
"""

from __future__ import annotations

from lxml import etree

from olx_spark.olx.model import ArchiveError

_ENTITY_DECLARATIONS = tuple(
    "<!ENTITY".encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)


class XmlProblem(Exception):
    """An XML file that cannot be used: malformed, or declaring entities."""

    def __init__(self, kind: str, path: str, message: str) -> None:
        super().__init__(message)
        self.error = ArchiveError(path=path, kind=kind, message=message)


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        dtd_validation=False,
    )


def _entities_refused(path: str) -> XmlProblem:
    return XmlProblem(
        "xml_entities",
        path,
        f"{path} declares XML entities (<!ENTITY ...> in a DOCTYPE); entities are never "
        "expanded, so the file was skipped. Remove the DOCTYPE from the file.",
    )


def parse_xml(data: bytes, path: str) -> etree._Element:
    """Parse one XML file's bytes safely; raise `XmlProblem` if it is unusable."""
    if any(declaration in data for declaration in _ENTITY_DECLARATIONS):
        raise _entities_refused(path)
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise XmlProblem(
            "bad_xml",
            path,
            f"{path} is not well-formed XML ({exc}); the file was skipped. Fix it and export "
            "the course again.",
        ) from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise _entities_refused(path)
    return root
