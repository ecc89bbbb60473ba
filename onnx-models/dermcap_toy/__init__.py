"""The toy captioner: synthetic lesion drawings with known attributes, captions written from those
attributes, and a small captioner of the released architecture family trained on them. It is a
test and demo model for dermcap's pipeline; it knows nothing about real skin."""
