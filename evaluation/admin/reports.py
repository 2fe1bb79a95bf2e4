"""Admin for quarterly and annual reports and the joint meetings."""
