// Process-wide SQLite settings that Swift cannot set: sqlite3_config is variadic.
#ifndef CSAR_SQLITE_TUNING_H
#define CSAR_SQLITE_TUNING_H

/// Turns SQLite's memory statistics off (SQLITE_CONFIG_MEMSTATUS 0). With them on, every
/// allocation SQLite makes takes one process-wide mutex, which threads reading through
/// their own connections then wait on. Effective only before SQLite is first used in the
/// process; returns SQLite's result code (0 when applied).
int csar_sqlite_disable_memory_statistics(void);

#endif
