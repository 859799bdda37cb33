"""One module per KPI family. Each declares itself once as ``FAMILY`` (a
:class:`~kpi_lib.measure.families._common.Family`: name, title, input tables, KPI ids, prepare, measure,
breakdown); :mod:`kpi_lib.measure.registry` lists them. Families are pure: tables and reference data in,
measurement rows out, no file access."""
