#define _GNU_SOURCE
#include <sys/socket.h>
#include <malloc.h>
#include "CLinux.h"

int tm_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    return accept4(fd, addr, len, flags);
}

void tm_malloc_return_eagerly(int threshold_bytes, int arenas) {
    mallopt(M_MMAP_THRESHOLD, threshold_bytes);
    mallopt(M_TRIM_THRESHOLD, threshold_bytes);
    mallopt(M_ARENA_MAX, arenas);
}

void tm_malloc_trim(void) {
    malloc_trim(0);
}
