#define _GNU_SOURCE
#include "CLinux.h"
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

const uint32_t CSYS_EPOLLIN = EPOLLIN;
const uint32_t CSYS_EPOLLOUT = EPOLLOUT;
const uint32_t CSYS_EPOLLERR = EPOLLERR;
const uint32_t CSYS_EPOLLHUP = EPOLLHUP;
const uint32_t CSYS_EPOLLRDHUP = EPOLLRDHUP;
const uint32_t CSYS_EPOLLET = EPOLLET;

int csys_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static int control(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    event.events = events;
    event.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &event);
}

int csys_epoll_add(int epfd, int fd, uint32_t events, uint64_t data) { return control(epfd, EPOLL_CTL_ADD, fd, events, data); }
int csys_epoll_modify(int epfd, int fd, uint32_t events, uint64_t data) { return control(epfd, EPOLL_CTL_MOD, fd, events, data); }
int csys_epoll_remove(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }

int csys_epoll_wait(int epfd, csys_event *events, int max_events, int timeout_ms) {
    struct epoll_event raw[256];
    if (max_events > 256) max_events = 256;
    int count = epoll_wait(epfd, raw, max_events, timeout_ms);
    for (int i = 0; i < count; i++) {
        events[i].events = raw[i].events;
        events[i].data = raw[i].data.u64;
    }
    return count;
}

int csys_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int csys_eventfd_signal(int fd) {
    uint64_t one = 1;
    // EAGAIN means the counter is already huge: the loop is certain to wake anyway.
    return (write(fd, &one, sizeof one) == sizeof one || errno == EAGAIN) ? 0 : -1;
}

void csys_eventfd_drain(int fd) {
    uint64_t value;
    while (read(fd, &value, sizeof value) == sizeof value) {}
}

int csys_accept(int listen_fd) { return accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

void csys_set_thread_name(const char *name) {
    char shortName[16];
    strncpy(shortName, name, 15);
    shortName[15] = 0;
    pthread_setname_np(pthread_self(), shortName);
}

uint8_t *csys_gzip(const uint8_t *input, size_t length, int level, size_t *out_length) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    // windowBits 15 + 16 asks zlib for a gzip wrapper (RFC 1952) instead of zlib's own.
    if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t capacity = deflateBound(&stream, length) + 32;
    uint8_t *output = malloc(capacity);
    if (!output) { deflateEnd(&stream); return NULL; }
    stream.next_in = (Bytef *)input;
    stream.avail_in = (uInt)length;
    stream.next_out = output;
    stream.avail_out = (uInt)capacity;
    int rc = deflate(&stream, Z_FINISH);
    *out_length = stream.total_out;
    deflateEnd(&stream);
    if (rc != Z_STREAM_END) { free(output); return NULL; }
    return output;
}

long long csys_parse_http_date(const char *text) {
    struct tm parts;
    memset(&parts, 0, sizeof parts);
    const char *end = strptime(text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    if (!end || *end != 0) return -1;
    return (long long)timegm(&parts);
}

static void termination_set(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
}

int csys_block_termination_signals(void) {
    sigset_t set;
    termination_set(&set);
    sigaddset(&set, SIGPIPE);
    return pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int csys_wait_termination_signal(void) {
    sigset_t set;
    termination_set(&set);
    int signal = 0;
    while (sigwait(&set, &signal) != 0) {}
    return signal;
}

void csys_raise_termination(void) { kill(getpid(), SIGTERM); }

int csys_poll_termination_signal(void) {
    sigset_t set;
    termination_set(&set);
    struct timespec zero = {0, 0};
    int signal = sigtimedwait(&set, NULL, &zero);
    return signal > 0 ? signal : 0;
}

int csys_malloc_trim(void) {
    return malloc_trim(0);
}

void csys_malloc_arena_max(int count) {
    mallopt(M_ARENA_MAX, count);
}
