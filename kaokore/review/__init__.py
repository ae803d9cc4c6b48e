"""The review loop: model suggestions, reviewers, the review queue and review decisions.

The pieces, each in its own module: :mod:`.users` (reviewers and their Argon2 hashes),
:mod:`.store` (the only writer of suggestions and decisions), :mod:`.queue` (which face a
review would teach most), :mod:`.provenance` (where a label came from, for history and
releases) and :mod:`.suggest` (running a trained classifier over the stored crops; needs the
``train`` extra, imported only when used).
"""

from kaokore.review.queue import QueueItem, least_confident_order, random_order, review_queue
from kaokore.review.store import (
    ClassifierIdentity,
    Decision,
    Prediction,
    record_decision,
    store_suggestions,
    undo_decision,
)
from kaokore.review.users import add_reviewer, authenticate, list_reviewers

__all__ = [
    "ClassifierIdentity",
    "Decision",
    "Prediction",
    "QueueItem",
    "add_reviewer",
    "authenticate",
    "least_confident_order",
    "list_reviewers",
    "random_order",
    "record_decision",
    "review_queue",
    "store_suggestions",
    "undo_decision",
]
