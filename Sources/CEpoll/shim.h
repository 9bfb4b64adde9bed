#ifndef CEPOLL_SHIM_H
#define CEPOLL_SHIM_H

// epoll(7), which Swift's Glibc module leaves out. struct epoll_event is packed on x86-64, so
// Swift sees only these wrappers and an unpacked copy of what epoll_wait reports.
#include <sys/epoll.h>
#include <stdint.h>

static const uint32_t CEPOLL_IN = EPOLLIN;
static const uint32_t CEPOLL_OUT = EPOLLOUT;
static const uint32_t CEPOLL_ERR = EPOLLERR;
static const uint32_t CEPOLL_HUP = EPOLLHUP;
static const int CEPOLL_CTL_ADD = EPOLL_CTL_ADD;
static const int CEPOLL_CTL_MOD = EPOLL_CTL_MOD;
static const int CEPOLL_CTL_DEL = EPOLL_CTL_DEL;

typedef struct {
    uint32_t events;
    uint64_t data;
} cepoll_ready;

static inline int cepoll_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

static inline int cepoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event event;
    event.events = events;
    event.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &event);
}

/// epoll_wait into `out` (at most 128 at a time).
static inline int cepoll_wait(int epfd, cepoll_ready *out, int max, int timeout) {
    struct epoll_event events[128];
    if (max > 128) max = 128;
    int n = epoll_wait(epfd, events, max, timeout);
    for (int i = 0; i < n; i++) {
        out[i].events = events[i].events;
        out[i].data = events[i].data.u64;
    }
    return n;
}

#endif
