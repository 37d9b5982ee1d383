// Header-only: see include/prefetch.h.
