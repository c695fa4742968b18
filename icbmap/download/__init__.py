"""Downloading official ONS / NHS files, free of Qt.

* :mod:`icbmap.download.client`: a small HTTP client on the standard library (timeouts,
  bounded retries with backoff, resumable downloads, conditional requests, a checksum
  manifest, progress and cancellation, a readable offline message).
* :mod:`icbmap.download.arcgis`: ONS Open Geography Portal layers through the ArcGIS
  FeatureServer query API, paged and resumable.
* :mod:`icbmap.download.nomis`: Census 2021 tables from the Nomis API, paged.
* :mod:`icbmap.download.nhs`: files of NHS England's monthly publications, found on the
  publication's landing page.
* :mod:`icbmap.download.sources`: the catalogue of official datasets
  (``resources/download_sources.json`` plus a user catalogue in the config folder).
* :mod:`icbmap.download.pack`: ``download_pack`` downloads the catalogue's files and builds
  a data pack through the official import route.
"""
