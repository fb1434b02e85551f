"""The work of the application: the services that own a transaction live here; pure modules in analysis/ and
ingest/, plumbing in runtime/."""
