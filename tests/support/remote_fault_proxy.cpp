// FaultProxy of remote_servers.hpp: a loopback TCP proxy whose first N connections fail.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "support/remote_servers.hpp"

namespace velin::testing {
namespace {

int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads what the client sends until an HTTP header ends or `timeout_ms` passes.
void ReadRequestHead(int fd, int timeout_ms) {
  std::string seen;
  char buf[4096];
  while (seen.find("\r\n\r\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return;
    seen.append(buf, static_cast<size_t>(n));
  }
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Copies bytes both ways until both directions are closed.
void Pump(int a, int b) {
  bool a_open = true, b_open = true;
  char buf[65536];
  while (a_open || b_open) {
    pollfd fds[2] = {{a, static_cast<short>(a_open ? POLLIN : 0), 0},
                     {b, static_cast<short>(b_open ? POLLIN : 0), 0}};
    if (::poll(fds, 2, 1000) < 0) return;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      int from = i == 0 ? a : b, to = i == 0 ? b : a;
      ssize_t n = ::read(from, buf, sizeof buf);
      if (n <= 0) {
        if (n < 0 || (fds[i].revents & POLLERR)) return;
        ::shutdown(to, SHUT_WR);
        (i == 0 ? a_open : b_open) = false;
      } else if (!WriteAll(to, buf, static_cast<size_t>(n))) {
        return;
      }
    }
  }
}

}  // namespace

FaultProxy::FaultProxy(int upstream_port, Fault fault, int failures, int pass_first)
    : upstream_port_(upstream_port), fault_(fault), failures_(failures), pass_first_(pass_first) {
  Listen();
}

FaultProxy::FaultProxy(int upstream_port, std::string raw_reply, int failures, int pass_first)
    : upstream_port_(upstream_port),
      fault_(Fault::kCanned),
      canned_reply_(std::move(raw_reply)),
      failures_(failures),
      pass_first_(pass_first) {
  Listen();
}

void FaultProxy::Listen() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("fault proxy: cannot listen");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (std::thread& t : threads_) t.join();
}

void FaultProxy::AcceptLoop() {
  while (!stopping_) {
    int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0) {
      if (stopping_) return;
      continue;
    }
    std::lock_guard lock(mu_);
    open_fds_.push_back(client);
    threads_.emplace_back([this, client] { Serve(client); });
  }
}

void FaultProxy::Serve(int client) {
  auto forget = [this](int fd) {
    std::lock_guard lock(mu_);
    std::erase(open_fds_, fd);
    ::close(fd);
  };
  int n = connections_.fetch_add(1);
  if (n >= pass_first_ && n < pass_first_ + failures_) {
    injected_.fetch_add(1);
    // Servers that speak first (SSH, FTP) send nothing here: the short wait then just times out.
    ReadRequestHead(client, fault_ == Fault::kDrop ? 300 : 2000);
    if (fault_ == Fault::kCanned) {
      WriteAll(client, canned_reply_.data(), canned_reply_.size());
      ::shutdown(client, SHUT_WR);
      ReadRequestHead(client, 200);
    } else if (fault_ != Fault::kDrop) {
      std::string status = fault_ == Fault::kHttp500   ? "500 Internal Server Error"
                           : fault_ == Fault::kHttp503 ? "503 Service Unavailable"
                                                       : "400 Bad Request";
      std::string code = fault_ == Fault::kHttp500   ? "InternalError"
                         : fault_ == Fault::kHttp503 ? "SlowDown"
                                                     : "AuthorizationHeaderMalformed";
      std::string body = "<Error><Code>" + code +
                         "</Code><Message>injected by the test proxy</Message>"
                         "<Region>eu-west-1</Region></Error>";
      std::string reply = "HTTP/1.1 " + status + "\r\nContent-Type: application/xml\r\n" +
                          "Content-Length: " + std::to_string(body.size()) +
                          "\r\nConnection: close\r\n\r\n" + body;
      WriteAll(client, reply.data(), reply.size());
      ::shutdown(client, SHUT_WR);
      ReadRequestHead(client, 200);  // drain the unread body so close sends no reset
    }
    forget(client);
    return;
  }
  int upstream = ConnectLoopback(upstream_port_);
  if (upstream >= 0) {
    {
      std::lock_guard lock(mu_);
      open_fds_.push_back(upstream);
    }
    Pump(client, upstream);
    forget(upstream);
  }
  forget(client);
}

}  // namespace velin::testing
