/*
 * A TLS client with OpenSSL linked statically into the executable (from Debian's libssl.a),
 * as node, Bun-built tools and many vendored binaries carry it: llmtap must find SSL_write
 * and friends inside the executable itself, whatever node the machine happens to have.
 *
 *   static-openssl-client --host H --port P [--requests N] [--body-bytes B]
 *                         [--response-bytes R] [--api classic|ex] [--connect-only]
 *                         [--then-exec PATH] [--start-delay-ms MS]
 *
 * Sends N POSTs of B bytes on one keep-alive connection, each asking for an R-byte response
 * body (Content-Length), with SSL_write/SSL_read (classic) or SSL_write_ex/SSL_read_ex (ex).
 * Prints {"pid":..,"requests":N,"ok":K} and exits 0 when every response was a 200.
 * --connect-only makes the TCP connection and exits (an exec-then-connect churn client);
 * --then-exec PATH then execs PATH --connect-only --host H --port P (a process that connects,
 * then becomes another never-seen executable that connects too). --start-delay-ms waits that
 * long before connecting (a client slower to start, as node is).
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct options {
	const char *host;
	int port;
	long requests;
	long body_bytes;
	long response_bytes;
	int use_ex;
	int connect_only;
	const char *then_exec;
	long start_delay_ms;
};

static void fail(const char *what)
{
	fprintf(stderr, "static-openssl-client: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static long number(const char *flag, const char *value)
{
	char *end = NULL;
	long n = strtol(value, &end, 10);

	if (!*value || *end || n < 0)
		fail(flag);
	return n;
}

static struct options parse(int argc, char **argv)
{
	struct options o = { "127.0.0.1", 0, 1, 128, 0, 0, 0, NULL, 0 };

	for (int i = 1; i < argc; i++) {
		const char *flag = argv[i];
		if (!strcmp(flag, "--connect-only")) {
			o.connect_only = 1;
			continue;
		}
		if (i + 1 >= argc)
			fail("a flag needs a value");
		const char *value = argv[++i];
		if (!strcmp(flag, "--host"))
			o.host = value;
		else if (!strcmp(flag, "--port"))
			o.port = (int)number(flag, value);
		else if (!strcmp(flag, "--requests"))
			o.requests = number(flag, value);
		else if (!strcmp(flag, "--body-bytes"))
			o.body_bytes = number(flag, value);
		else if (!strcmp(flag, "--response-bytes"))
			o.response_bytes = number(flag, value);
		else if (!strcmp(flag, "--start-delay-ms"))
			o.start_delay_ms = number(flag, value);
		else if (!strcmp(flag, "--then-exec"))
			o.then_exec = value;
		else if (!strcmp(flag, "--api"))
			o.use_ex = !strcmp(value, "ex");
		else
			fail("unknown flag");
	}
	if (o.port <= 0)
		fail("--port is required");
	return o;
}

static int connect_tcp(const struct options *o)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)o->port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || inet_pton(AF_INET, o->host, &addr.sin_addr) != 1)
		fail("bad host");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		fail("connect failed");
	return fd;
}

static void write_all(SSL *ssl, const char *data, size_t len, int use_ex)
{
	while (len > 0) {
		size_t n = 0;
		if (use_ex) {
			if (SSL_write_ex(ssl, data, len, &n) != 1)
				fail("SSL_write_ex failed");
		} else {
			int r = SSL_write(ssl, data, (int)len);
			if (r <= 0)
				fail("SSL_write failed");
			n = (size_t)r;
		}
		data += n;
		len -= n;
	}
}

static size_t read_some(SSL *ssl, char *buf, size_t cap, int use_ex)
{
	size_t n = 0;

	if (use_ex) {
		if (SSL_read_ex(ssl, buf, cap, &n) != 1)
			fail("SSL_read_ex failed");
		return n;
	}
	int r = SSL_read(ssl, buf, (int)cap);
	if (r <= 0)
		fail("SSL_read failed");
	return (size_t)r;
}

/* Reads one response; returns its status. Bytes past it stay in `pending`. */
static int read_response(SSL *ssl, char **pending, size_t *pending_len, size_t *pending_cap,
			 int use_ex)
{
	char *end;
	for (;;) {
		if (*pending_len && (end = memmem(*pending, *pending_len, "\r\n\r\n", 4)))
			break;
		if (*pending_cap - *pending_len < 16384) {
			*pending_cap = *pending_cap * 2 + 16384;
			*pending = realloc(*pending, *pending_cap);
			if (!*pending)
				fail("out of memory");
		}
		*pending_len += read_some(ssl, *pending + *pending_len, *pending_cap - *pending_len, use_ex);
	}
	size_t head = (size_t)(end - *pending) + 4;
	int status = atoi(*pending + 9);
	char *cl = memmem(*pending, head, "Content-Length: ", 16);
	if (!cl)
		fail("response without Content-Length");
	size_t total = head + strtoul(cl + 16, NULL, 10);
	while (*pending_len < total) {
		if (*pending_cap < total) {
			*pending_cap = total;
			*pending = realloc(*pending, *pending_cap);
			if (!*pending)
				fail("out of memory");
		}
		*pending_len += read_some(ssl, *pending + *pending_len, *pending_cap - *pending_len, use_ex);
	}
	memmove(*pending, *pending + total, *pending_len - total);
	*pending_len -= total;
	return status;
}

int main(int argc, char **argv)
{
	struct options o = parse(argc, argv);

	if (o.start_delay_ms)
		usleep((useconds_t)o.start_delay_ms * 1000);
	int fd = connect_tcp(&o);

	if (o.connect_only) {
		close(fd);
		if (o.then_exec) {
			char port[16];
			snprintf(port, sizeof(port), "%d", o.port);
			execl(o.then_exec, o.then_exec, "--connect-only", "--host", o.host, "--port", port,
			      (char *)NULL);
			fail("exec failed");
		}
		return 0;
	}
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		fail("SSL_CTX_new failed");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		fail("TLS handshake failed");

	char head[256];
	char *body = malloc((size_t)o.body_bytes + 1);
	char *pending = NULL;
	size_t pending_len = 0, pending_cap = 0;
	long ok = 0;

	if (!body)
		fail("out of memory");
	for (long i = 0; i < o.body_bytes; i++)
		body[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[(i + i / 36) % 36];
	for (long r = 0; r < o.requests; r++) {
		int n = snprintf(head, sizeof(head),
				 "POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\n"
				 "Content-Type: application/json\r\nx-response-bytes: %ld\r\n"
				 "Content-Length: %ld\r\n\r\n",
				 o.host, o.response_bytes, o.body_bytes);
		write_all(ssl, head, (size_t)n, o.use_ex);
		write_all(ssl, body, (size_t)o.body_bytes, o.use_ex);
		if (read_response(ssl, &pending, &pending_len, &pending_cap, o.use_ex) == 200)
			ok++;
	}
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	free(body);
	free(pending);
	printf("{\"pid\":%d,\"requests\":%ld,\"ok\":%ld}\n", (int)getpid(), o.requests, ok);
	return ok == o.requests ? 0 : 1;
}
