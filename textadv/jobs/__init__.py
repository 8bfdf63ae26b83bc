"""The jobs: one module per job, each a readable pipeline from settings to run directory."""
