"""Reports: charts, tables and documents made from results (never from solver objects)."""
