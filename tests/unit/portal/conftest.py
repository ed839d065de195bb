"""Portal tests that need residents with provision records use the linkage network's databases."""

from tests.unit.linkage_fixture import linkage_database_urls

__all__ = ["linkage_database_urls"]
