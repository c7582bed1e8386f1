#pragma once
// Destroys a TCP connection from outside the process that owns it, as `ss -K` does: a netlink
// NETLINK_SOCK_DIAG SOCK_DESTROY request naming the socket by its addresses and ports (the
// kernel needs CONFIG_INET_DIAG_DESTROY, and the caller CAP_NET_ADMIN). The owner sees a reset:
// its pending and later reads and writes fail with ECONNABORTED or EPIPE, and nothing more
// is sent or received. A connection in another network namespace (a container's) is
// destroyed from inside that namespace, entered by a short-lived thread.

#include <sys/types.h>

#include <string>

#include "capture/tls_call.h"

namespace llmtap::action {

struct DestroyResult {
  bool destroyed = false;
  int error = 0;  // errno: ENOENT (no such socket: already closed), EOPNOTSUPP, EPERM...
  std::string message;
};

// `local` and `remote` as the owning process sees them; `owner_pid` names the network
// namespace to look in (0: llmtap's own).
DestroyResult destroy_tcp_connection(const capture::Endpoint& local,
                                     const capture::Endpoint& remote, pid_t owner_pid = 0);

}  // namespace llmtap::action
