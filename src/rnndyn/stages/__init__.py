"""Stage functions: what each workflow rule computes, callable with plain arguments."""
