// SSE fan-out load client: opens N event-stream connections to 127.0.0.1:PORT/events, reads
// events whose data is the server's send time (CLOCK_REALTIME ns), and reports the delivery
// latency percentiles across all clients after a warm-up.
//   sse-load PORT CLIENTS SECONDS
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct { int fd; size_t used; char buffer[8192]; int connected; } client_t;

static uint64_t now_ns(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int compare(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: sse-load PORT CLIENTS SECONDS\n"); return 2; }
    int port = atoi(argv[1]), count = atoi(argv[2]), seconds = atoi(argv[3]);
    struct rlimit limit = { (rlim_t)count + 64, (rlim_t)count + 64 };
    setrlimit(RLIMIT_NOFILE, &limit);
    client_t *clients = calloc((size_t)count, sizeof(client_t));
    int epoll = epoll_create1(0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    const char *request = "GET /events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n";
    for (int i = 0; i < count; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
            fprintf(stderr, "connect %d failed: %s\n", i, strerror(errno));
            return 1;
        }
        if (write(fd, request, strlen(request)) < 0) return 1;
        fcntl(fd, F_SETFL, O_NONBLOCK);
        clients[i].fd = fd;
        struct epoll_event event = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
        epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
    }
    size_t capacity = 1 << 20, samples = 0;
    uint64_t *latencies = malloc(capacity * sizeof(uint64_t));
    uint64_t start = now_ns(CLOCK_MONOTONIC), warmup = 2000000000ull;
    uint64_t end = start + warmup + (uint64_t)seconds * 1000000000ull;
    long closed = 0, events = 0;
    struct epoll_event ready[512];
    while (now_ns(CLOCK_MONOTONIC) < end) {
        int n = epoll_wait(epoll, ready, 512, 100);
        uint64_t received = now_ns(CLOCK_REALTIME);
        int measuring = now_ns(CLOCK_MONOTONIC) > start + warmup;
        for (int k = 0; k < n; k++) {
            client_t *c = &clients[ready[k].data.u32];
            ssize_t got = read(c->fd, c->buffer + c->used, sizeof c->buffer - c->used - 1);
            if (got <= 0) {
                if (got == 0 || (errno != EAGAIN && errno != EINTR)) { closed++; epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd); }
                continue;
            }
            c->used += (size_t)got;
            c->buffer[c->used] = 0;
            char *line = c->buffer, *newline;
            while ((newline = strchr(line, '\n'))) {
                *newline = 0;
                if (strncmp(line, "data: ", 6) == 0) {
                    uint64_t sent = strtoull(line + 6, NULL, 10);
                    events++;
                    if (measuring && sent > 0 && samples < capacity) latencies[samples++] = received > sent ? received - sent : 0;
                }
                line = newline + 1;
            }
            size_t rest = c->used - (size_t)(line - c->buffer);
            memmove(c->buffer, line, rest);
            c->used = rest;
        }
    }
    qsort(latencies, samples, sizeof(uint64_t), compare);
    if (samples == 0) { printf("clients=%d closed=%ld samples=0\n", count, closed); return 1; }
    printf("clients=%d closed=%ld events=%ld samples=%zu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", count, closed, events, samples,
           latencies[samples / 2] / 1e6, latencies[(samples * 99) / 100] / 1e6, latencies[samples - 1] / 1e6);
    return 0;
}
