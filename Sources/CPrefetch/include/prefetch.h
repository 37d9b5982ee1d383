// A cache-line prefetch for Swift, which has no way to ask for one: a hint that does not
// wait for the line (a load does, and a loop of loads stalls once the processor's window
// of pending instructions is full).
#ifndef CSAR_PREFETCH_H
#define CSAR_PREFETCH_H

/// Asks for the cache line holding `address` to be brought towards the core (into the
/// second-level cache), without waiting for it.
static inline void csar_prefetch(const void *address) { __builtin_prefetch(address, 0, 2); }

#endif
