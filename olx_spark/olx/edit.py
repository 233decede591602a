"""Safe offline edits of a course export archive: replace a subtree, move a block, delete one.

Course teams keep content as OLX and want to update it by injecting a subtree they exported
and edited (specs/olx-versions.md, "Replacing a subtree"). These functions take an archive
and write a new one; nothing is written unless the whole edit is valid:

- `expect_version` is checked first: the archive's `course_version` (as ingest computes it)
  must equal it, else `VersionConflict` (exit code 3);
- blocks the edit would leave without a parent are would-be orphans: `orphans="decline"`
  refuses (`OrphansDeclined`, exit code 4, naming each); `"delete"` removes them and their
  files, but a block shared with another parent stays. `move` and `delete` have no such
  option: a move deletes no block and a delete removes only what is below the deleted one, so
  any other would-be orphan (a block whose id the edit would change) is declined the same
  way, with advice for that command;
- everything else wrong is `EditRefused` (exit code 2), with the file, line, column and block
  of the problem when the replacement is at fault; a block the rest of the course also uses
  (it has a parent outside the subtree) may come back in the replacement, as a subtree export
  carries it, but unchanged;
- files outside the edited blocks are copied byte for byte, and so is a replacement file whose
  blocks come out with the same `block_hash` (a re-serialized export); static files are
  streamed, never held, so memory follows the course's text, not its size;
- the result is parsed with `parse_course_archive` before it is renamed into place, so the
  `course_version` it reports is the one ingest will compute.

Edits of the published course only (a draft whose parent goes counts as a would-be orphan;
drafts are otherwise left as they are). Where the replaced block was inline in its parent's file,
that inline element becomes a pointer `<type url_name=".."/>` and the replacement root its
own file `{type}/{url_name}.xml` (the layout a subtree export has, so export -> edit ->
replace loops). A move of an inline block likewise moves its element, bytes unchanged, into
its own file. Policy files are not edited: a deleted block's entry in policy.json stays.

A block without url_name (nor slug, name or display_name) is named after a hash of its XML:
an edit inside such a container (taking a child out, putting one in, a child becoming a
pointer) writes that name into its start tag as `url_name`, so it keeps its id (its
block_hash changes, url_name being one of its settings). Every file an edit writes from a
url_name or `filename` must be a safe relative path: one with `..`, an absolute path or an
empty part is refused, naming the block.

    from olx_spark.olx.edit import replace_subtree
    result = replace_subtree("course.tar.gz", "block-v1:X+C+R+type@vertical+block@v1",
                             "edited_v1/", expect_version=v, out="new.tar.gz")
    result.as_json()
"""

from __future__ import annotations

import os
from pathlib import Path

from olx_spark.olx.edit_model import (
    EditError,
    EditRefused,
    EditResult,
    OrphansDeclined,
    VersionConflict,
)
from olx_spark.olx.edit_plan import (
    ORPHAN_POLICIES,
    Settled,
    below,
    find_block,
    plan_delete,
    plan_move,
    settle,
)
from olx_spark.olx.edit_replace import plan_replace, review_replacement
from olx_spark.olx.edit_source import CourseView, LoadedCourse, load_course, load_replacement
from olx_spark.olx.edit_write import Written, write_edited_archive
from olx_spark.olx.identity import block_file
from olx_spark.olx.model import Limits, ParsedArchive

__all__ = [
    "EditError",
    "EditRefused",
    "EditResult",
    "OrphansDeclined",
    "VersionConflict",
    "delete_block",
    "move_block",
    "replace_subtree",
]

PathLike = str | os.PathLike[str]
_OUT_SUFFIXES = (".tar.gz", ".tgz")


def _out_path(out: PathLike) -> Path:
    path = Path(out)
    if not path.name.lower().endswith(_OUT_SUFFIXES):
        raise EditRefused(
            f"--out {path} must name a .tar.gz (or .tgz) file: edits always write a gzipped tar."
        )
    if path.is_dir():
        raise EditRefused(f"--out {path} is a folder; give a file name ending in .tar.gz.")
    if not path.parent.is_dir():
        raise EditRefused(f"the folder of --out {path} does not exist; create it first.")
    return path


def _open(archive: PathLike, expect_version: str | None, limits: Limits | None) -> LoadedCourse:
    course = load_course(Path(archive), limits or Limits())
    if expect_version is not None and expect_version != course.view.course_version:
        raise VersionConflict(expect_version, course.view.course_version)
    return course


def _diff(old: CourseView, new: ParsedArchive) -> tuple[list[str], list[str], list[str]]:
    """Published blocks added, removed and changed (by block_hash), in document order."""
    before = {key[1]: row["block_hash"] for key, row in old.blocks.items() if not key[0]}
    after = {
        row["block_id"]: row["block_hash"] for row in new.rows["blocks"] if not row["is_draft"]
    }
    added = [b for b in after if b not in before]
    removed = [b for b in before if b not in after]
    changed = [b for b in after if b in before and before[b] != after[b]]
    return added, removed, changed


def _finish(
    course: LoadedCourse,
    settled: Settled,
    block_id: str,
    out: Path,
    write: tuple[ParsedArchive, Written],
    report_subtree: bool = True,
) -> EditResult:
    parsed, written = write
    added, removed, changed = _diff(course.view, parsed)
    subtree_hash = next(
        (
            row["subtree_hash"]
            for row in parsed.rows["blocks"]
            if row["block_id"] == block_id and not row["is_draft"]
        ),
        None,
    )
    return EditResult(
        course_id=course.view.identity.course_id,
        old_course_version=course.view.course_version,
        course_version=str(parsed.course_version),
        block_id=block_id,
        subtree_hash=subtree_hash if report_subtree else None,
        blocks_added=added,
        blocks_removed=removed,
        blocks_changed=changed,
        out=str(out),
        files_written=written.files_written,
        files_removed=sorted(settled.plan.removes),
        static_added=written.static_added,
        members_dropped=written.members_dropped,
    )


def replace_subtree(
    archive: PathLike,
    block_id: str,
    replacement: PathLike,
    *,
    orphans: str = "decline",
    expect_version: str | None = None,
    out: PathLike,
    limits: Limits | None = None,
) -> EditResult:
    """Replace the block `block_id` and everything below it with `replacement` (a folder,
    or a `.tar.gz`/`.zip` of one, in the subtree-export layout: the block's own file
    `{type}/{url_name}.xml`, its descendants' files, optional `manifest.json` and `static/`),
    writing the edited archive to `out`.

    A pointer in the replacement to a file only the archive has refers to that existing block
    (kept, shared). `orphans` is "decline" or "delete" (see the module's docstring).
    Raises `VersionConflict`, `OrphansDeclined` or `EditRefused`; nothing is written then.
    """
    if orphans not in ORPHAN_POLICIES:
        raise EditRefused(f"orphans must be 'decline' or 'delete', not {orphans!r}.")
    out_path = _out_path(out)
    course = _open(archive, expect_version, limits)
    target = find_block(course.view, block_id)
    root_file = block_file(target["block_type"], target["url_name"])
    loaded = load_replacement(Path(replacement), root_file, limits or Limits())
    planned = plan_replace(course, target, loaded)
    settled = settle(
        course, planned.plan, orphans, lambda after: review_replacement(course, planned, after)
    )
    write = write_edited_archive(
        course,
        settled.plan,
        out_path,
        limits or Limits(),
        settled.view.course_version,
        loaded,
        planned.static,
    )
    return _finish(course, settled, block_id, out_path, write)


def move_block(
    archive: PathLike,
    block_id: str,
    new_parent_id: str,
    *,
    position: int | None = None,
    expect_version: str | None = None,
    out: PathLike,
    limits: Limits | None = None,
) -> EditResult:
    """Move the block (with its subtree) under `new_parent_id`, a block of the same type as
    its current parent, at `position` among the new parent's children (default: last; within
    the same parent this reorders). Writes the edited archive to `out`."""
    out_path = _out_path(out)
    course = _open(archive, expect_version, limits)
    block = find_block(course.view, block_id)
    new_parent = find_block(course.view, new_parent_id, "new parent")
    plan = plan_move(course, block, new_parent, position)
    settled = settle(course, plan, "decline", command="move")
    write = write_edited_archive(
        course, settled.plan, out_path, limits or Limits(), settled.view.course_version
    )
    return _finish(course, settled, block_id, out_path, write)


def delete_block(
    archive: PathLike,
    block_id: str,
    *,
    expect_version: str | None = None,
    out: PathLike,
    limits: Limits | None = None,
) -> EditResult:
    """Delete the block: its pointer (or inline definition) goes from every parent, its files
    and its descendants' go too, except descendants another parent still uses. Writes the
    edited archive to `out`; `subtree_hash` in the result is None."""
    out_path = _out_path(out)
    course = _open(archive, expect_version, limits)
    block = find_block(course.view, block_id)
    settled = settle(
        course,
        plan_delete(course, block),
        "delete",
        command="delete",
        removable=below(course.view, block_id),
    )
    write = write_edited_archive(
        course, settled.plan, out_path, limits or Limits(), settled.view.course_version
    )
    return _finish(course, settled, block_id, out_path, write, report_subtree=False)
