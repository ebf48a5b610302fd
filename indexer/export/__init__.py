"""Exports of the index for engines that run on more than one machine.

:func:`export_opensearch` writes an OpenSearch (or Elasticsearch-like) index:
settings and mappings, ``_bulk`` files of the stored articles with vnsearch's
own tokens (:mod:`~indexer.export.opensearch`, aligned to the original text by
:mod:`~indexer.export.aligned`), and a search template with the parameters of
the thin Python query layer (:mod:`~indexer.export.template`). Nothing here
talks to a cluster: see ``docs/scaling.md``.
"""

from indexer.export.files import (BULK_PATTERN, DEFAULT_INDEX_NAME, MAPPING_FILE, MAX_BULK_BYTES, TEMPLATE_FILE,
                                  ExportReport, export_opensearch)
from indexer.export.opensearch import ExportError
from indexer.export.template import TEMPLATE_ID, search_template, template_params

__all__ = ["BULK_PATTERN", "DEFAULT_INDEX_NAME", "MAPPING_FILE", "MAX_BULK_BYTES", "TEMPLATE_FILE", "TEMPLATE_ID",
           "ExportError", "ExportReport", "export_opensearch", "search_template", "template_params"]
