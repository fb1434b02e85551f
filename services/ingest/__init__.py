"""Reading untrusted sales files into one canonical, typed table with detected column roles."""
