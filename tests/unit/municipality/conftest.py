"""Municipality tests share the linkage network defined once in tests/unit/linkage_fixture.py."""

from tests.unit.linkage_fixture import linkage, linkage_database_urls

__all__ = ["linkage", "linkage_database_urls"]
