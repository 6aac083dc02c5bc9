"""capacity: school-district capacity planning.

Data in (``capacity.data``) -> enrolment projection -> seat gap -> optimal plan -> reports.
"""

from capacity.data import District, load_district
from capacity.errors import CapacityError, InputError, ProjectionError, ScenarioError, SolverError

__version__ = "0.1.0"

__all__ = [
    "CapacityError",
    "District",
    "InputError",
    "ProjectionError",
    "ScenarioError",
    "SolverError",
    "__version__",
    "load_district",
]
