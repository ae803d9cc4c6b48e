"""``DATASHEET.md``: what a release is, where it comes from, and what to be careful about.

Why generated from the release's own numbers: a hand-written data sheet goes stale at the next
version. Every figure here (class balance, holders, the leakage of each split) is computed
from the entries the release holds, and nothing depends on the clock, so the sheet is as
reproducible as the rest of the release.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kaokore.compiler.images import JPEG_OPTIONS
from kaokore.compiler.records import ReleaseEntry, SampleRow
from kaokore.compiler.splits import THRESHOLDS, by_page_group, by_work_group
from kaokore.compiler.terms import ATTRIBUTION, LICENSE, LICENSE_URL, REDISTRIBUTION
from kaokore.release.layout import IMAGE_SIZE, SETS

__all__ = ["datasheet", "leakage"]


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def leakage(
    entries: Sequence[ReleaseEntry], split: str, group: Callable[[SampleRow], str]
) -> tuple[int, int]:
    """(test faces whose group also has training faces, test faces) in ``split``."""
    covered = [e for e in entries if e.row.labelled and split in e.sets]
    train_groups = {group(e.row) for e in covered if e.sets[split] == "train"}
    test = [e for e in covered if e.sets[split] == "test"]
    return sum(1 for e in test if group(e.row) in train_groups), len(test)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _label_sources(options: Mapping[str, Any], entries: Sequence[ReleaseEntry]) -> list[str]:
    """The paragraph on reviewed labels: what the release takes, and how many of each."""
    labels = options.get("labels", "expert")
    if labels != "expert+reviewed":
        return [
            "Labels: expert only (`kaokore build --labels expert`, the default). Labels given "
            "by reviewers in `kaokore web --review` and machine suggestions are not in this "
            "release.",
            "",
        ]
    rows = []
    reviewers: Counter[str] = Counter()
    for category in ("gender", "status"):
        kinds: Counter[str] = Counter()
        for entry in entries:
            if not entry.row.labelled:
                continue
            source = entry.row.gender_source if category == "gender" else entry.row.status_source
            if source is None:
                continue
            key = source.kind if source.kind == "expert" else f"reviewer, {source.decision}"
            kinds[key] += 1
            if source.reviewer:
                reviewers[source.reviewer] += 1
        rows.append(
            (
                category,
                kinds["expert"],
                kinds["reviewer, confirmed"],
                kinds["reviewer, overrode"],
                kinds["reviewer, labelled"],
            )
        )
    who = ", ".join(f"{name} ({n})" for name, n in sorted(reviewers.items())) or "none"
    return [
        "Labels: experts and reviewers (`kaokore build --labels expert+reviewed`). Where a "
        "reviewer labelled a face in `kaokore web --review`, the newest human label is used, "
        "the reviewer's when it is newer than the experts'; `faces.csv` names the source of "
        "every label (`gender_source`, `gender_reviewer`, `gender_decision`, "
        "`gender_suggestion`, and the same for status). Machine suggestions enter only as a "
        f"reviewer's decision. Labels per source, over the labelled faces (reviewers: {who}):",
        "",
        *_table(
            (
                "label",
                "expert",
                "reviewer confirmed a suggestion",
                "reviewer overrode a suggestion",
                "reviewer, no suggestion",
            ),
            rows,
        ),
        "",
    ]


def datasheet(
    *,
    version: str,
    built_at: str,
    db_state: str,
    options: Mapping[str, Any],
    counts: Mapping[str, Any],
    entries: Sequence[ReleaseEntry],
    official_version: str | None,
) -> bytes:
    """The data sheet of a release, in Markdown."""
    labelled = counts["labelled"]
    gender = counts["gender"]
    status = counts["status"]
    holders = Counter(e.row.holder or "unknown" for e in entries)
    works = {by_work_group(e.row) for e in entries}
    pages = {by_page_group(e.row) for e in entries}
    seed = options.get("seed")
    out: list[str] = [
        f"# KaoKore {version}: data sheet",
        "",
        "## What it is",
        "",
        f"{counts['images']} face images ({IMAGE_SIZE}x{IMAGE_SIZE} RGB JPEG) cut from pre-modern "
        "Japanese picture scrolls and books, with expert labels of gender and social status, "
        f"compiled by kaokore from its research database (state `{db_state[:16]}`, newest change "
        f"{built_at}). {labelled} faces have a KaoKore label (`labels.csv`); "
        f"{counts['unlabelled']} keep only their original tags; {counts['left_out']} known faces "
        "are left out for lack of a usable crop (listed with the reason in `release.json`).",
        "",
        "## Where it comes from",
        "",
        "The faces and their labels are those of CODH's Collection of Facial Expressions "
        "(IIIF Curation Platform), harvested over IIIF, and of the official KaoKore files where "
        "they were imported. Each image is cut from the holder's IIIF image service; "
        "`faces.csv` (and `faces.parquet`) give, per image, the holder, the record id, the work, "
        "the manifest, the canvas, the region, the image service, every annotation and the "
        f"source document. {len(works)} works, {len(pages)} pages or images.",
        "",
        *_table(
            ("holder", "images"),
            [(h, n) for h, n in sorted(holders.items(), key=lambda item: (-item[1], item[0]))],
        ),
        "",
        "## How it was labelled",
        "",
        "Art historians annotated each face with metadata (性別 gender, 身分 status, 向き "
        "orientation, tags...). As in every official version, a face gets a `labels.csv` row iff "
        "性別 is 男 (0, male) or 女 (1, female) and 身分 is 貴族 (0, noble), 武士 (1, warrior), "
        "化身 (2, incarnation) or 庶民 (3, commoner). Faces tagged 僧侶, 動物, 神職 or 不明 stay "
        "in `faces.csv` and `original_tags.txt`. Every label is the current one by kaokore's "
        "one rule (docs/labels.md), the same that queries and exports read: only the newest "
        "version of a dataset counts, a document's withdrawn assertions do not, and per label "
        "the best source wins (human before machine, then the newest assertion), each value "
        "once. Machine-made labels are kept in `faces.csv` only.",
        "",
        *_label_sources(options, entries),
        "## How it was split",
        "",
        f"- `splits/stable.csv` (the `set` column of `labels.csv`): a face's set is a pure "
        f"function of its stable key and the seed ({seed}): sha256 read as u in [0, 1), train "
        f"below {THRESHOLDS[0]}, dev below {THRESHOLDS[1]}, else test. A face keeps its set in "
        "every later release built with the same seed; new faces join in the same proportions, "
        "which hold per class in expectation.",
        "- `splits/by-work.csv`: the same rule on the work key: no work has faces in two sets.",
        "- `splits/by-page.csv`: the same rule on the page (canvas, or image service when "
        "there is no canvas): no page has faces in two sets.",
        (
            f"- `splits/official.csv`: the sets of official KaoKore {official_version}, for "
            "the faces it holds, to compare with published results."
            if official_version
            else "- no `splits/official.csv`: no official version was imported."
        ),
        "",
    ]
    rows = []
    for name, sets in counts["sets"].items():
        rows.append((name, *(sets[s]["total"] for s in SETS)))
    out += [*_table(("split", *SETS), rows), ""]
    out += [
        "## Known biases and leaks",
        "",
        f"- Class imbalance, gender: male {gender['male']} ({_pct(gender['male'], labelled)}), "
        f"female {gender['female']} ({_pct(gender['female'], labelled)}).",
        "- Class imbalance, status: "
        + ", ".join(f"{name} {n} ({_pct(n, labelled)})" for name, n in status.items())
        + ".",
        f"- The collection covers the works its curators chose, from {len(holders)} holders "
        "(table above); faces of one work share a painter and a style, so a split by face "
        "overstates how well a model generalises to new works.",
    ]
    for name, group, what in (
        ("official", by_work_group, "work"),
        ("official", by_page_group, "page"),
        ("stable", by_work_group, "work"),
        ("stable", by_page_group, "page"),
        ("by-work", by_work_group, "work"),
        ("by-page", by_page_group, "page"),
    ):
        leaked, test = leakage(entries, name, group)
        if test:
            out.append(
                f"- `{name}` split: {leaked} of {test} test faces ({_pct(leaked, test)}) share "
                f"their {what} with training faces."
            )
    out += [
        "- Use `by-work` to measure generalisation to unseen works, `by-page` to unseen pages.",
        "",
        "## Images",
        "",
        f"Each stored crop is cut square, converted to RGB, resized to {IMAGE_SIZE}x{IMAGE_SIZE} "
        f"with the Lanczos filter and saved as JPEG (quality {JPEG_OPTIONS['quality']}, 4:4:4, "
        "no metadata). A face keeps its file number in every later release; a number that a "
        "release lacks is a blank line in `urls.txt`.",
        "",
        "## Reproducibility",
        "",
        "Building this version again from the same database state gives byte-identical files; "
        "the build time in `release.json` is the newest change in that state, not the clock. "
        "`SHA256SUMS` lists every file (`sha256sum -c SHA256SUMS`, or `kaokore verify`).",
        "",
        "## Licence and attribution",
        "",
        f"Licence: {LICENSE} ({LICENSE_URL}).",
        "",
        f"Attribution: {ATTRIBUTION}.",
        "",
        REDISTRIBUTION,
        "",
    ]
    return "\n".join(out).encode()
