#include "action/socket_destroyer.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace llmtap::action {
namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

DestroyResult failure(int error, const std::string& what) {
  return {false, error, what + ": " + std::strerror(error)};
}

Fd netlink_socket() { return Fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)); }

// A NETLINK_SOCK_DIAG socket in the network namespace of `pid` (its own when that is ours).
Fd netlink_socket_in_namespace_of(pid_t pid, int& error) {
  struct stat ours {};
  struct stat theirs {};
  const std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  if (pid <= 0 || stat("/proc/self/ns/net", &ours) != 0 || stat(path.c_str(), &theirs) != 0 ||
      ours.st_ino == theirs.st_ino) {
    Fd fd = netlink_socket();
    if (fd.get() < 0) error = errno;
    return fd;
  }
  Fd ns(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (ns.get() < 0) {
    error = errno;
    return Fd();
  }
  // setns() moves only the calling thread; the socket keeps the namespace it was made in.
  Fd out;
  std::thread([&] {
    if (setns(ns.get(), CLONE_NEWNET) != 0) {
      error = errno;
      return;
    }
    out = netlink_socket();
    if (out.get() < 0) error = errno;
  }).join();
  return out;
}

}  // namespace

DestroyResult destroy_tcp_connection(const capture::Endpoint& local,
                                     const capture::Endpoint& remote, pid_t owner_pid) {
  if ((local.family != AF_INET && local.family != AF_INET6) || local.family != remote.family) {
    return {false, EAFNOSUPPORT, "not a TCP/IP connection"};
  }
  int error = 0;
  const Fd nl = netlink_socket_in_namespace_of(owner_pid, error);
  if (nl.get() < 0) return failure(error, "netlink socket");

  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof(message);
  message.header.nlmsg_type = SOCK_DESTROY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  message.header.nlmsg_seq = 1;
  inet_diag_req_v2& r = message.request;
  r.sdiag_family = static_cast<uint8_t>(local.family);
  r.sdiag_protocol = IPPROTO_TCP;
  r.idiag_states = ~0u;
  r.id.idiag_sport = htons(local.port);
  r.id.idiag_dport = htons(remote.port);
  r.id.idiag_if = 0;
  r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  const size_t addr_bytes = local.family == AF_INET ? 4 : 16;
  std::memcpy(r.id.idiag_src, local.addr.data(), addr_bytes);
  std::memcpy(r.id.idiag_dst, remote.addr.data(), addr_bytes);

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(nl.get(), &message, sizeof(message), 0, reinterpret_cast<sockaddr*>(&kernel),
             sizeof(kernel)) < 0) {
    return failure(errno, "SOCK_DESTROY request");
  }
  alignas(nlmsghdr) char reply[512];
  const ssize_t n = recv(nl.get(), reply, sizeof(reply), 0);
  if (n < 0) return failure(errno, "SOCK_DESTROY reply");
  const auto* header = reinterpret_cast<const nlmsghdr*>(reply);
  if (!NLMSG_OK(header, static_cast<unsigned>(n)) || header->nlmsg_type != NLMSG_ERROR) {
    return {false, EPROTO, "SOCK_DESTROY: unexpected reply"};
  }
  const auto* ack = static_cast<const nlmsgerr*>(NLMSG_DATA(header));
  if (ack->error != 0) return failure(-ack->error, "SOCK_DESTROY");
  return {true, 0, ""};
}

}  // namespace llmtap::action
