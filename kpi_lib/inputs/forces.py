"""Force names across Home Office releases: the readers' name for :mod:`kpi_lib.config.forces`
(the reference table is configuration, read once; the peer settings need it too)."""

from kpi_lib.config.forces import canonical_force, fraud_bodies, territorial

__all__ = ["canonical_force", "fraud_bodies", "territorial"]
