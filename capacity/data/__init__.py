"""District data: the input format, loading, validation and the bundled example."""

from capacity.data.district import EXAMPLE_PATH, District, load_district

__all__ = ["EXAMPLE_PATH", "District", "load_district"]
