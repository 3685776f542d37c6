#ifndef TOKENMETER_CLINUX_H
#define TOKENMETER_CLINUX_H
/* Linux APIs that Swift's Glibc module does not expose (epoll, eventfd, timerfd, signalfd, accept4, mallopt). */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>

int tm_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

/* glibc allocator tuning (malloc.h is not in Swift's Glibc module): fixed mmap and trim thresholds, fewer arenas. */
void tm_malloc_return_eagerly(int threshold_bytes, int arenas);
/* Give free pages in the middle of the heaps back to the kernel (glibc malloc_trim). */
void tm_malloc_trim(void);
#endif
