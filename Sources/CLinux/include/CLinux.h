#pragma once
// The few Linux calls Swift's Glibc module does not expose (epoll, eventfd, accept4, thread
// names), and zlib's gzip deflate behind a macro-free API. Imported only by the HTTP target.
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// One readiness event: the epoll_event fields, unpacked (epoll_event is packed on x86_64).
typedef struct {
    uint32_t events;
    uint64_t data;
} csys_event;

extern const uint32_t CSYS_EPOLLIN;
extern const uint32_t CSYS_EPOLLOUT;
extern const uint32_t CSYS_EPOLLERR;
extern const uint32_t CSYS_EPOLLHUP;
extern const uint32_t CSYS_EPOLLRDHUP;
extern const uint32_t CSYS_EPOLLET;

int csys_epoll_create(void);
int csys_epoll_add(int epfd, int fd, uint32_t events, uint64_t data);
int csys_epoll_modify(int epfd, int fd, uint32_t events, uint64_t data);
int csys_epoll_remove(int epfd, int fd);
int csys_epoll_wait(int epfd, csys_event *events, int max_events, int timeout_ms);

/// A non-blocking, close-on-exec eventfd.
int csys_eventfd(void);
int csys_eventfd_signal(int fd);
void csys_eventfd_drain(int fd);

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC.
int csys_accept(int listen_fd);

/// Names the calling thread (first 15 bytes).
void csys_set_thread_name(const char *name);

/// Gzip-compresses `input` (level 1-9). Returns a malloc'd buffer the caller frees, or NULL.
uint8_t *csys_gzip(const uint8_t *input, size_t length, int level, size_t *out_length);

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) to seconds since 1970; -1 if malformed.
long long csys_parse_http_date(const char *text);

/// Blocks SIGTERM, SIGINT and SIGPIPE in the calling thread and every thread it starts later,
/// so they can be taken synchronously with csys_wait_termination_signal. Call first in main.
int csys_block_termination_signals(void);

/// Waits for SIGTERM or SIGINT (blocked beforehand) and returns its number.
int csys_wait_termination_signal(void);

/// Takes a pending SIGTERM or SIGINT without waiting: its number, or 0 when none is pending.
int csys_poll_termination_signal(void);

/// Sends SIGTERM to this process (to end a csys_wait_termination_signal from inside).
void csys_raise_termination(void);

/// Caps glibc's malloc arenas at `count` (mallopt M_ARENA_MAX). Call before threads start.
void csys_malloc_arena_max(int count);

/// Hands the free memory of every malloc arena back to the system (glibc malloc_trim(0)).
/// Returns 1 if some memory was released.
int csys_malloc_trim(void);
