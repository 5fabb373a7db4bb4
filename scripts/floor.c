/* The floor of the performance targets (README, "Where the time goes"):
 * the cheapest loop of the calls sockdiff makes most, two TCP sockets, an
 * option, a bind and a refused second bind on loopback, two closes, for a
 * given number of seconds on one core. Prints system calls per second.
 * Run it in a private network namespace (scripts/perf-check does). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double length = argc > 1 ? atof(argv[1]) : 5.0;
    double begin = seconds();
    long calls = 0;
    int on = 1;
    unsigned port = 20000;
    while (seconds() - begin < length) {
        for (int n = 0; n < 1000; n++) {
            struct sockaddr_in sa = {0};
            sa.sin_family = AF_INET;
            sa.sin_port = htons((unsigned short)port);
            sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            int first = socket(AF_INET, SOCK_STREAM, 0);
            int second = socket(AF_INET, SOCK_STREAM, 0);
            setsockopt(first, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
            bind(first, (struct sockaddr *)&sa, sizeof sa);
            bind(second, (struct sockaddr *)&sa, sizeof sa);
            close(first);
            close(second);
            calls += 7;
            port = port >= 60000 ? 20000 : port + 1;
        }
    }
    printf("%.0f\n", (double)calls / (seconds() - begin));
    return 0;
}
