"""Readers: each input format read and validated into canonical tables, with a row ledger."""

from .canonical import TABLES, Tables, read_tables

__all__ = ["TABLES", "Tables", "read_tables"]
