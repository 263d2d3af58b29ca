#ifndef AGRITRACE_CSQLITE_SHIM_H
#define AGRITRACE_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
