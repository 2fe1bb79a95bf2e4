"""Admin for yearly figures, scores, inspections and satisfaction."""
