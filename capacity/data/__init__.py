"""District data: the input format, loading, validation and the bundled example."""

from capacity.data.district import BUNDLED_DISTRICTS, EXAMPLE_PATH, EXAMPLE_US_PATH, District, load_district

__all__ = ["BUNDLED_DISTRICTS", "EXAMPLE_PATH", "EXAMPLE_US_PATH", "District", "load_district"]
