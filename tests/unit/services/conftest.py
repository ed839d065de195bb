"""The kernel is tested through a real service: J-LIS and its callers, as in `tests/unit/jlis`."""

from tests.unit.jlis.conftest import jlis_options, network

__all__ = ["jlis_options", "network"]
