"""The pieces of a mirror's documents that both mirror builders write: painted canvases
(IIIF Presentation 2.1 and 3.0) and the drawn face that stands in for a missing image.

Why one module: ``tools/make_sample.py`` (the bundled 33-face mirror) and
:mod:`kaokore.mirror.upstream` (the full-scale one) publish pages the same way; written
twice, a fix to one (a profile, a size) silently left the other behind.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

__all__ = ["PaintedCanvas", "drawn_face"]


@dataclass(frozen=True)
class PaintedCanvas:
    """A canvas painted by one page image of an Image API service, in either version.

    The canvas is ``scale`` times the image, as some holders publish it (regions must then
    be scaled); ``level`` is the service's compliance level.
    """

    canvas: str
    service: str
    label: str
    image_size: tuple[int, int]
    scale: int = 1
    level: int = 2

    def v2(self) -> dict[str, Any]:
        """The canvas in Presentation 2.1, its service in Image API 2.1."""
        width, height = self.image_size
        return {
            "@id": self.canvas,
            "@type": "sc:Canvas",
            "label": self.label,
            "width": width * self.scale,
            "height": height * self.scale,
            "images": [
                {
                    "@id": f"{self.canvas}/annotation/image",
                    "@type": "oa:Annotation",
                    "motivation": "sc:painting",
                    "on": self.canvas,
                    "resource": {
                        "@id": f"{self.service}/full/full/0/default.jpg",
                        "@type": "dctypes:Image",
                        "format": "image/jpeg",
                        "width": width,
                        "height": height,
                        "service": {
                            "@context": "http://iiif.io/api/image/2/context.json",
                            "@id": self.service,
                            "profile": f"http://iiif.io/api/image/2/level{self.level}.json",
                        },
                    },
                }
            ],
        }

    def v3(self) -> dict[str, Any]:
        """The canvas in Presentation 3.0, its service in Image API 3.0."""
        width, height = self.image_size
        service = {"id": self.service, "type": "ImageService3", "profile": f"level{self.level}"}
        body = {
            "id": f"{self.service}/full/max/0/default.jpg",
            "type": "Image",
            "format": "image/jpeg",
            "width": width,
            "height": height,
            "service": [service],
        }
        painting = {
            "id": f"{self.canvas}/page/image",
            "type": "Annotation",
            "motivation": "painting",
            "target": self.canvas,
            "body": body,
        }
        return {
            "id": self.canvas,
            "type": "Canvas",
            "label": {"none": [self.label]},
            "width": width * self.scale,
            "height": height * self.scale,
            "items": [{"id": f"{self.canvas}/page", "type": "AnnotationPage", "items": [painting]}],
        }


def drawn_face(seed: str, paper: tuple[int, int, int]) -> Image.Image:
    """A drawn monk's head (256 px, deterministic in ``seed``), for a face whose real crop
    is not in the KaoKore release; mirrors mark such faces ``synthetic``."""
    rng = random.Random(seed)
    img = Image.new("RGB", (256, 256), paper)
    d = ImageDraw.Draw(img)
    ink = (52, 40, 32)
    skin = (232 + rng.randint(-6, 6), 204 + rng.randint(-6, 6), 170 + rng.randint(-6, 6))
    d.ellipse((70, 38, 186, 206), fill=skin, outline=ink, width=3)  # shaved head
    d.ellipse((58, 112, 78, 148), fill=skin, outline=ink, width=3)  # ears
    d.ellipse((178, 112, 198, 148), fill=skin, outline=ink, width=3)
    d.arc((92, 112, 124, 128), 200, 340, fill=ink, width=3)  # eyes
    d.arc((134, 112, 166, 128), 200, 340, fill=ink, width=3)
    d.line((128, 128, 122, 160, 132, 162), fill=ink, width=2)  # nose
    d.arc((108, 168, 150, 186), 20, 160, fill=(150, 60, 50), width=3)  # mouth
    d.rectangle((40, 206, 216, 256), fill=(60 + rng.randint(0, 20), 50, 70))  # robe
    return img
