#ifndef AGRITRACE_CTHREADNAME_H
#define AGRITRACE_CTHREADNAME_H

/// Names the calling thread (Linux keeps the first 15 bytes). Returns 0 or an errno value.
/// A C function because glibc declares pthread_setname_np only under _GNU_SOURCE.
int agritrace_set_thread_name(const char *name);

#endif
