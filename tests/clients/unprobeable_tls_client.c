/*
 * An executable that defines SSL_write and SSL_read whose first instruction is int3, which
 * the kernel refuses to put a uprobe on: llmtap finds TLS functions in it, and every attach
 * fails. It connects right after it starts, so llmtap may hold it while it tries:
 *
 *   unprobeable-tls-client --port P     (connects to 127.0.0.1:P, then exits 0)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((naked, used, noinline)) int SSL_write(void)
{
	__asm__ volatile("int3\n\tret");
}

__attribute__((naked, used, noinline)) int SSL_read(void)
{
	__asm__ volatile("int3\n\tret");
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (argc != 3 || fd < 0)
		return 2;
	addr.sin_port = htons((unsigned short)atoi(argv[2]));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		return 1;
	close(fd);
	return 0;
}
