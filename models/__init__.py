"""The DAO: table definitions and one module per table family. It never commits; callers own the transaction."""
