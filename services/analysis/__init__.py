"""Pure analysis modules: DataFrames and parameters in, DataFrames and plain dicts out. No Flask, no DAO."""
