"""Pure analysis modules: DataFrames and parameters in, DataFrames and plain dicts out. No Flask, no DAO.
kinds.py is the registry of analysis kinds (one kind_<name>.py each) that the pipeline and the results reader use."""
