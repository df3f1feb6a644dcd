#include "support/ops_http_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>

namespace velin::testing {
namespace {

int ListenOnLoopback(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string("cannot listen on loopback: ") + std::strerror(errno));
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Parses the request line and headers of `head` (up to the blank line).
HttpRequest ParseHead(const std::string& head) {
  HttpRequest req;
  size_t line_end = head.find("\r\n");
  const std::string first = head.substr(0, line_end);
  const size_t sp1 = first.find(' ');
  const size_t sp2 = first.find(' ', sp1 + 1);
  req.method = first.substr(0, sp1);
  req.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t pos = line_end + 2;
  while (pos < head.size()) {
    const size_t end = head.find("\r\n", pos);
    const std::string line = head.substr(pos, end - pos);
    pos = end == std::string::npos ? head.size() : end + 2;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t v = colon + 1;
    while (v < line.size() && line[v] == ' ') ++v;
    req.headers[Lower(line.substr(0, colon))] = line.substr(v);
  }
  return req;
}

}  // namespace

OpsHttpServer::OpsHttpServer(int status, bool silent) : status_(status), silent_(silent) {
  listen_fd_ = ListenOnLoopback(&port_);
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  thread_ = std::thread([this] { Serve(); });
}

OpsHttpServer::~OpsHttpServer() {
  stop_ = true;
  const char b = 'x';
  (void)!::write(wake_pipe_[1], &b, 1);
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

int OpsHttpServer::UnusedPort() {
  int port = 0;
  ::close(ListenOnLoopback(&port));
  return port;
}

std::vector<HttpRequest> OpsHttpServer::WaitForRequests(size_t n,
                                                        std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  return requests_;
}

void OpsHttpServer::Serve() {
  while (!stop_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (stop_ || (fds[1].revents & POLLIN)) return;
    if (!(fds[0].revents & POLLIN)) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    HandleConnection(fd);
    ::close(fd);
  }
}

void OpsHttpServer::HandleConnection(int fd) {
  std::string data;
  size_t head_end = std::string::npos;
  size_t need = 0;
  char buf[4096];
  while (!stop_) {
    if (head_end != std::string::npos && data.size() >= need) break;
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents & POLLIN) return;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return;
    data.append(buf, static_cast<size_t>(n));
    if (head_end == std::string::npos && (head_end = data.find("\r\n\r\n")) != std::string::npos) {
      const HttpRequest head = ParseHead(data.substr(0, head_end));
      auto it = head.headers.find("content-length");
      need = head_end + 4 + (it == head.headers.end() ? 0 : std::stoul(it->second));
    }
  }
  if (head_end == std::string::npos) return;
  HttpRequest req = ParseHead(data.substr(0, head_end));
  req.body = data.substr(head_end + 4, need - head_end - 4);
  {
    std::lock_guard lock(mu_);
    requests_.push_back(std::move(req));
  }
  cv_.notify_all();
  if (silent_) {
    // Hold the connection open without an answer until the server stops.
    pollfd wake{wake_pipe_[0], POLLIN, 0};
    while (!stop_ && ::poll(&wake, 1, 100) == 0) {
    }
    return;
  }
  const std::string response = "HTTP/1.1 " + std::to_string(status_) +
                               " Status\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK";
  (void)!::write(fd, response.data(), response.size());
}

}  // namespace velin::testing
