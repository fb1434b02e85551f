"""The work of the application: pure analysis modules plus the services that own transactions."""
