"""The one error the exporter reports to its user."""


class SourceError(Exception):
    """The user's input is wrong; the message says which file and what."""
