"""Research queries: the face database as a tool for art historians.

One vocabulary for Python and the CLI: the face filters are the fields of
:class:`FaceFilter` (``kaokore query faces --status warrior`` is
``faces(db, where=FaceFilter(status="warrior"))``), taken as ``where=`` by every function
that selects faces. Every function takes the database as an open
:class:`kaokore.db.Database`, a URL (``sqlite:///kaokore-data/kaokore.db``) or a SQLite path.

* :func:`faces`, :func:`face_ids`, :func:`count_faces`: faces by work, holder, record id,
  gender, status, orientation, tag, free text, period, agent and release membership; rows
  or a pandas DataFrame.
* :func:`stats`: counts and shares by any columns (``by="work,status"``).
* :func:`history`: every annotation a face ever had, and its state under the one rule.
* :func:`diff`: faces added, removed and relabelled between two versions, releases or dates.
* :func:`sql`: read-only SQL over the documented views (:data:`VIEWS`).
* :func:`export_rdf`, :func:`sparql`: the faces as W3C Web Annotations, and SPARQL over them.
* :func:`export_curation`: a ``cr:Curation`` or IIIF Presentation 3 annotation page.
* :func:`compute_embeddings`, :func:`similar`: nearest faces by embedding.
* :func:`contact_sheet`: a PNG grid of crops.
* :func:`parse_period`, :func:`combine_periods`: 制作年 values as year ranges.

Only NumPy, Pillow, SQLAlchemy and rdflib are needed; pandas for ``as_dataframe=True`` and
torch for the torch embedding models are imported when used.
"""

from kaokore.db.period_terms import refresh_period_terms
from kaokore.periods import FacePeriod, YearRange, combine_periods, parse_period
from kaokore.query.contact import contact_sheet
from kaokore.query.curation_export import CurationExport, export_curation
from kaokore.query.diff import DiffResult, LabelChange, diff
from kaokore.query.embeddings import EmbeddingReport, compute_embeddings
from kaokore.query.faces import count_faces, face_ids, faces, history, stats
from kaokore.query.filters import FaceFilter
from kaokore.query.rdf import build_graph, export_rdf
from kaokore.query.readonly import sql
from kaokore.query.rows import FaceRow, HistoryRow, Label, StatsResult, StatsRow, TabularResult
from kaokore.query.similar import SimilarFace, similar
from kaokore.query.sparql import sparql
from kaokore.query.views import VIEWS

__all__ = [
    "CurationExport",
    "DiffResult",
    "EmbeddingReport",
    "FaceFilter",
    "FacePeriod",
    "FaceRow",
    "HistoryRow",
    "Label",
    "LabelChange",
    "SimilarFace",
    "StatsResult",
    "StatsRow",
    "TabularResult",
    "VIEWS",
    "YearRange",
    "build_graph",
    "combine_periods",
    "compute_embeddings",
    "contact_sheet",
    "count_faces",
    "diff",
    "export_curation",
    "export_rdf",
    "face_ids",
    "faces",
    "history",
    "parse_period",
    "refresh_period_terms",
    "similar",
    "sparql",
    "sql",
    "stats",
]
