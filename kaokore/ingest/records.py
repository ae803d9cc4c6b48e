"""The typed records the pure readers of ``kaokore.ingest`` return.

Raw JSON-LD dicts never leave ``ingest/``: every reader turns a decoded document into these
frozen, keyword-only dataclasses, so that the harvester, the store and the tests all speak
about the same few things (a feed page, a curation, a manifest, an image service, a crop
plan) whatever upstream version or quirk the document came in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from kaokore.box import Box
from kaokore.db.records import Assertion

__all__ = [
    "Activity",
    "ActivityType",
    "Agent",
    "ApiVersion",
    "CropPlan",
    "Curation",
    "CurationFace",
    "Defect",
    "DefectOutcome",
    "DocumentKind",
    "FeedKind",
    "FeedPage",
    "ImageRequest",
    "ImageServiceInfo",
    "Manifest",
    "ManifestCanvas",
    "MetadataPair",
    "Selection",
    "ServiceRef",
    "Tile",
    "TileRequest",
]

#: Activity types of IIIF Change Discovery 1.0 that the harvester acts on.
ActivityType = Literal["Create", "Update", "Delete", "Move", "Add", "Remove", "Refresh"]
FeedKind = Literal["collection", "page"]
Agent = Literal["human", "machine"]
ApiVersion = Literal["2", "3"]
DocumentKind = Literal["curation", "feed", "manifest", "unknown"]
#: What became of the face a defect touches: kept (with a repair) or left out.
DefectOutcome = Literal["kept", "left_out"]


# --- change feeds -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Activity:
    """One change in a feed: what happened (``type``) to which document, and when.

    ``object_id`` is None only for ``Refresh``, which has no object. ``target_id`` is the new
    URL of a ``Move``.
    """

    type: ActivityType
    object_id: str | None
    object_type: str | None
    end_time: datetime
    target_id: str | None = None

    @property
    def removes(self) -> bool:
        """True when the object is gone from the stream afterwards (Delete or Remove)."""
        return self.type in ("Delete", "Remove")


@dataclass(frozen=True, kw_only=True, slots=True)
class FeedPage:
    """A feed document: the collection (entry point) or one page of activities.

    Links are plain URLs, None when absent. ``activities`` keep document order (oldest
    first, by the specification); activity types kaokore does not use are left out.
    """

    url: str
    kind: FeedKind
    first: str | None
    last: str | None
    prev: str | None
    next: str | None
    activities: tuple[Activity, ...]
    total_items: int | None = None


# --- defects -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Defect:
    """Something wrong upstream that one member (or selection) had, and what was done.

    ``url`` is the document, ``pointer`` the JSON pointer of the offending part
    (``/selections/0/members/3/metadata/0``), ``code`` a stable name for the kind
    (``empty_label``, ``region_outside``, ...), ``reason`` the sentence a person reads.
    ``outcome`` says whether the face was kept (with the repair ``reason`` names) or left
    out. Defects are warnings: an ingest that stored everything else exits 0.
    """

    url: str
    pointer: str
    code: str
    reason: str
    outcome: DefectOutcome
    member_uri: str | None = None


# --- curations ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class CurationFace:
    """A member of a selection that marks a region of a canvas: one face.

    ``pointer`` is the member's JSON pointer in its curation (for defect records).
    """

    member_uri: str
    canvas_uri: str
    region: Box
    label: str | None
    pairs: tuple[Assertion, ...]
    pointer: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class Selection:
    """An ``sc:Range`` of a curation: the faces it marks on the pages of one manifest.

    ``whole_canvases`` lists canvases the selection names without a ``#xywh`` region:
    they are not faces, but a harvester may want to know they were there.
    """

    range_id: str
    label: str | None
    manifest_url: str
    manifest_label: str | None
    faces: tuple[CurationFace, ...]
    whole_canvases: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Curation:
    """A ``cr:Curation`` document: its selections, one per manifest.

    ``defects`` lists the members, metadata entries and selections that could not be read
    (left out) or were read with a repair (kept): the rest of the document is read.
    """

    url: str
    label: str | None
    selections: tuple[Selection, ...]
    defects: tuple[Defect, ...] = ()

    @property
    def faces(self) -> tuple[CurationFace, ...]:
        """Every face of every selection, in document order."""
        return tuple(face for selection in self.selections for face in selection.faces)


# --- manifests ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class MetadataPair:
    """A descriptive label/value pair of a manifest, with the language of the value."""

    label: str
    value: str
    lang: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceRef:
    """The Image API service of a canvas as the manifest names it (before info.json).

    ``api_version`` and ``level`` are None where the manifest does not say.
    """

    base_url: str
    api_version: ApiVersion | None
    level: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ManifestCanvas:
    """A canvas (page) of a manifest, its size and the image painted on it.

    ``width``/``height`` are the canvas size (the coordinate space of ``#xywh=``);
    ``image_width``/``image_height`` the image's, where given: they differ on some hosts.
    ``image_region`` is set when only part of the image is painted (an ImageApiSelector).
    ``position`` is the 0-based index of the canvas in the manifest.
    """

    uri: str
    label: str | None
    width: int
    height: int
    position: int
    service: ServiceRef | None
    image_width: int | None
    image_height: int | None
    image_region: Box | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Manifest:
    """A IIIF Presentation manifest (2.1 or 3.0) in one model."""

    url: str
    iiif_version: ApiVersion
    label: str | None
    label_lang: str | None
    metadata: tuple[MetadataPair, ...]
    license: str | None
    attribution: str | None
    canvases: tuple[ManifestCanvas, ...]


# --- image services -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Tile:
    """A tile size the service serves, and the scale factors it serves it at."""

    width: int
    height: int
    scale_factors: tuple[int, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class ImageServiceInfo:
    """An Image API ``info.json``: what requests the service allows for one image."""

    base_url: str
    api_version: ApiVersion
    level: int
    width: int
    height: int
    max_width: int | None
    max_height: int | None
    max_area: int | None
    sizes: tuple[tuple[int, int], ...]
    tiles: tuple[Tile, ...]
    extra_features: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class ImageRequest:
    """An Image API request URL split into its service and parameters."""

    service_url: str
    region: str
    size: str
    rotation: str
    quality: str
    format: str

    @property
    def region_box(self) -> Box | None:
        """The region as a rectangle when it is ``x,y,w,h`` in pixels, else None."""
        parts = self.region.split(",")
        if len(parts) != 4 or self.region.startswith("pct:"):
            return None
        x, y, w, h = (int(part) for part in parts)
        return Box(x=x, y=y, w=w, h=h)


# --- crop plans ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class TileRequest:
    """One image to fetch and where it goes in the mosaic.

    ``paste_x``/``paste_y`` place its top-left corner in the mosaic; ``width``/``height`` are
    the size it is expected to come back at (a fetched image of another size is resized to
    it). ``scale`` is how many full-resolution image pixels one fetched pixel covers.
    """

    url: str
    paste_x: int
    paste_y: int
    width: int
    height: int
    scale: float


@dataclass(frozen=True, kw_only=True, slots=True)
class CropPlan:
    """How to get one face crop out of an image service.

    Fetch every request, paste each into a ``mosaic_size`` canvas, crop ``local_crop``
    (mosaic coordinates; may reach past the mosaic, which pads) or keep the whole mosaic
    when it is None, and resize to ``output_size`` squared.
    """

    requests: tuple[TileRequest, ...]
    mosaic_size: tuple[int, int]
    local_crop: Box | None
    output_size: int
