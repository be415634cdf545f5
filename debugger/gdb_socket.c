/* The GDB stub's transport in vtxsim (debugger/gdbstub.h, gdb_main): one
 * TCP connection on 127.0.0.1, as gdb's `target remote :PORT` expects. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "debugger/gdbstub.h"

struct gdb_conn {
	int fd;
	uint8_t buf[4096];
	size_t pos, len;
};

static int conn_recv(void *ctx, uint8_t *byte, bool wait)
{
	struct gdb_conn *c = ctx;
	if (c->pos == c->len) {
		ssize_t n;
		do
			n = recv(c->fd, c->buf, sizeof(c->buf), wait ? 0 : MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0 && !wait && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		c->pos = 0;
		c->len = (size_t)n;
	}
	*byte = c->buf[c->pos++];
	return 1;
}

static bool conn_send(void *ctx, const void *buf, size_t n)
{
	struct gdb_conn *c = ctx;
	const char *p = buf;
	while (n) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* A listening socket on 127.0.0.1:port (0: the kernel picks), its port in *bound. */
static int listen_on(int port, int *bound)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen)) {
		close(fd);
		return -1;
	}
	*bound = ntohs(a.sin_port);
	return fd;
}

int gdb_main(struct dbg *d, int port, const char *kernel)
{
	int bound, lfd = listen_on(port, &bound);
	if (lfd < 0) {
		fprintf(stderr, "vtxsim: -gdb tcp::%d: cannot listen on 127.0.0.1:%d: %s; pick another port (0: any free one)\n",
			port, port, strerror(errno));
		return 2;
	}
	fprintf(stderr, "vtxsim: gdb stub listening on port %d\n", bound);
	int fd;
	do
		fd = accept(lfd, NULL, NULL);
	while (fd < 0 && errno == EINTR);
	close(lfd);
	if (fd < 0) {
		fprintf(stderr, "vtxsim: gdb stub: accept: %s\n", strerror(errno));
		return 2;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct gdb_conn conn = { .fd = fd };
	struct gdb_io io = { .recv = conn_recv, .send = conn_send, .ctx = &conn };
	struct gdb_stub *s = gdb_stub_create(d, &io, kernel);
	if (!s) {
		close(fd);
		fprintf(stderr, "vtxsim: out of memory\n");
		return 10;
	}
	int status = gdb_stub_serve(s);
	gdb_stub_destroy(s);
	close(fd);
	return status;
}
