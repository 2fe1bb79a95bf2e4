"""The evaluation admin, in two modules: yearly figures and scores, and the built reports."""

from . import figures, reports  # noqa: F401 - importing registers the ModelAdmins
