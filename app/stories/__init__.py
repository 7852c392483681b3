"""Stories: a thousand people saying one thing in their own words is one story.

Each stored public mention is compared, as it arrives, with the recent ones by MinHash
locality-sensitive hashing (:mod:`app.stories.detector`); near-duplicates and paraphrases
of one post join one story, with a label (its most typical post), its size, when it was
first and last seen, its sentiment mix, networks and the authors with most reach. The
tables and their queries are in :mod:`app.stories.schema` and :mod:`app.stories.queries`.
"""
