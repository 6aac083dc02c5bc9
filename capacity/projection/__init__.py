"""Enrolment projection: cohort model by zone and grade, back-testing, calibrated uncertainty."""

from capacity.projection.backtest import backtest_errors, best_method, calibrate, error_metrics
from capacity.projection.cube import History, history_from_district, history_from_frames
from capacity.projection.project import Projection, project_district, project_history, quantile_column
from capacity.projection.settings import ESTIMATORS, ProjectionSettings

__all__ = [
    "ESTIMATORS",
    "History",
    "Projection",
    "ProjectionSettings",
    "backtest_errors",
    "best_method",
    "calibrate",
    "error_metrics",
    "history_from_district",
    "history_from_frames",
    "project_district",
    "project_history",
    "quantile_column",
]
