"""Services around the simulation that are neither the domain (sim/) nor the web app (web/)."""
