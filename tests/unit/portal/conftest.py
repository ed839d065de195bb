"""Portal tests run on the linkage network's databases, with My Portal enrolled at the broker."""

from tests.unit.linkage_fixture import linkage_database_urls
from tests.unit.portal.portal_fixture import linkage_with_portal

__all__ = ["linkage_database_urls", "linkage_with_portal"]
