// glibc's malloc tuning (mallopt, malloc_trim), which Swift's Glibc module
// does not export. Part of libc: nothing extra to link.
#if defined(__linux__)
#include <malloc.h>
#endif
