"""The shared filing engine (DESIGN.md, "The filing engine")."""
