"""A course's policy files: block settings from policy.json, the grading policy, assets.

`policies/{run}/policy.json` overrides block settings (`{type}/{url_name}` -> settings); the
grading policy and the asset metadata (`policies/assets.json`, `assets/assets.xml`) are kept as
rows of the policies table, one per (key, setting).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from olx_spark.olx.elements import json_text, setting_text
from olx_spark.olx.identity import CourseIdentity, url_name_path
from olx_spark.olx.sources import CourseSources

Row = dict[str, Any]


@dataclass
class CoursePolicies:
    """The policy files of a course: policy.json, grading_policy.json, assets (JSON and XML)."""

    policy_file: str | None
    policy: dict[str, Any]
    grading_file: str
    grading: dict[str, Any]
    assets: dict[str, Any]
    assets_xml: dict[str, dict[str, str]]

    @classmethod
    def load(cls, sources: CourseSources, identity: CourseIdentity) -> CoursePolicies:
        run_dir = f"policies/{url_name_path(identity.url_name)}"
        policy_file = next(
            (p for p in (f"{run_dir}/policy.json", f"{run_dir}.json") if p in sources.texts),
            None,
        )
        grading_file = f"{run_dir}/grading_policy.json"
        return cls(
            policy_file,
            (sources.json_object(policy_file) if policy_file else None) or {},
            grading_file,
            sources.json_object(grading_file) or {},
            sources.json_object("policies/assets.json") or {},
            _assets_xml(sources),
        )

    def overrides(self, block_type: str, url_name: str) -> dict[str, str]:
        entry = self.policy.get(f"{block_type}/{url_name}")
        if not isinstance(entry, dict):
            return {}
        return {str(k): setting_text(v) for k, v in entry.items()}

    def asset_metadata(self, static_path: str) -> str | None:
        relative = static_path.split("/", 1)[1]
        for name in (relative, posixpath.basename(relative), relative.replace("/", "_")):
            if name in self.assets:
                return json_text(self.assets[name])
        for name in (relative, posixpath.basename(relative)):
            if name in self.assets_xml:
                return json_text(self.assets_xml[name])
        return None

    def rows(self, identity: CourseIdentity, block_ids: set[str]) -> list[Row]:
        rows: list[Row] = []
        if self.policy_file:
            for key, value in self.policy.items():
                block_id = _policy_block_id(identity, key, block_ids)
                rows.extend(_setting_rows(self.policy_file, key, block_id, value))
        for key, value in self.grading.items():
            rows.append(_policy_row(self.grading_file, key, None, None, value))
        for name, entry in self.assets.items():
            rows.extend(_setting_rows("policies/assets.json", name, None, entry))
        for name, entry in self.assets_xml.items():
            rows.extend(_setting_rows("assets/assets.xml", name, None, entry))
        return rows


def _assets_xml(sources: CourseSources) -> dict[str, dict[str, str]]:
    if "assets/assets.xml" not in sources.texts:
        return {}
    root = sources.xml("assets/assets.xml", None)
    assets: dict[str, dict[str, str]] = {}
    for asset in root.iter("asset") if root is not None else ():
        entry = {str(k): str(v) for k, v in asset.attrib.items() if k != "filename"}
        entry.update({str(c.tag): c.text or "" for c in asset if isinstance(c.tag, str)})
        assets.setdefault(asset.get("filename", ""), entry)
    return assets


def _policy_block_id(identity: CourseIdentity, key: str, block_ids: set[str]) -> str | None:
    if "/" not in key:
        return None
    block_type, url_name = key.split("/", 1)
    block_id = identity.block_id(block_type, url_name)
    return block_id if block_id in block_ids else None


def _policy_row(
    policy_file: str, key: str, block_id: str | None, setting: str | None, value: Any
) -> Row:
    return {
        "policy_file": policy_file,
        "policy_key": key,
        "block_id": block_id,
        "setting": setting,
        "value_json": json_text(value),
    }


def _setting_rows(policy_file: str, key: str, block_id: str | None, value: Any) -> list[Row]:
    if isinstance(value, dict) and value:
        return [_policy_row(policy_file, key, block_id, str(s), v) for s, v in value.items()]
    return [_policy_row(policy_file, key, block_id, None, value)]
