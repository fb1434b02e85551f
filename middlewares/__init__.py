"""Request plumbing: authentication, problem+json errors, request ids and logging, rate limits."""
