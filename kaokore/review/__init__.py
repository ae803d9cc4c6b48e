"""The review loop: model suggestions, reviewers, the review queue and review decisions.

The pieces, each in its own module: :mod:`.store` (the only writer of suggestions and
decisions), :mod:`.queue` (which face a review would teach most), :mod:`.curation` (reviewed
labels as a ``cr:Curation`` for upstream). Two are imported only where used, since they need
an extra: :mod:`.suggest` (running a trained classifier over the stored crops; ``train``) and
:mod:`.users` (reviewers and their Argon2id hashes; ``review``, i.e. argon2-cffi).
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

__all__ = [
    "ClassifierIdentity",
    "Decision",
    "Prediction",
    "QueueItem",
    "least_confident_order",
    "random_order",
    "record_decision",
    "review_queue",
    "store_suggestions",
    "undo_decision",
]
