#define _GNU_SOURCE
/* A plain TCP sink for bench_http.py: accepts HTTP uploads on loopback, answers
 * `Expect: 100-continue`, reads and discards the body in 1 MiB reads, replies 204.
 * Native code so that the baseline measures loopback TCP and curl, not an interpreter.
 * Usage: tcp_sink PORT   (serves until killed) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[1 << 20];

int main(int argc, char **argv) {
    int srv = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(srv, (struct sockaddr *)&a, sizeof a) || listen(srv, 16)) { perror("sink"); return 1; }
    for (;;) {
        int c = accept(srv, 0, 0);
        if (c < 0) continue;
        size_t have = 0;
        char *end = 0;
        while (!end && have < sizeof buf - 1) {
            ssize_t n = read(c, buf + have, sizeof buf - 1 - have);
            if (n <= 0) break;
            have += n;
            buf[have] = 0;
            end = strstr(buf, "\r\n\r\n");
        }
        if (!end) { close(c); continue; }
        long long length = 0;
        for (char *p = buf; p < end; p++)
            if (!strncasecmp(p, "\ncontent-length:", 16)) length = atoll(p + 16);
        if (strcasestr(buf, "100-continue")) write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        long long got = (long long)(have - (end + 4 - buf));
        while (got < length) {
            ssize_t n = read(c, buf, sizeof buf);
            if (n <= 0) break;
            got += n;
        }
        const char *r = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
        write(c, r, strlen(r));
        close(c);
    }
}
