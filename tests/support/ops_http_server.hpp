// A small real HTTP/1.1 server on 127.0.0.1 for tests of velin's monitoring pings: it listens
// on a free port, records every request (method, path, headers, body) and answers each with a
// configurable status — or, in silent mode, reads the request and never answers, to test
// timeouts. One connection at a time, Content-Length bodies, `Connection: close`. The server
// thread stops and its sockets close in the destructor, also when a test fails.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace velin::testing {

struct HttpRequest {
  std::string method;
  std::string path;                            // with the query string
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class OpsHttpServer {
 public:
  explicit OpsHttpServer(int status = 200, bool silent = false);
  ~OpsHttpServer();
  OpsHttpServer(const OpsHttpServer&) = delete;
  OpsHttpServer& operator=(const OpsHttpServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Waits until `n` requests arrived (or `timeout` passed) and returns all received so far.
  std::vector<HttpRequest> WaitForRequests(
      size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // A loopback port on which nothing listens (bound and released at once).
  static int UnusedPort();

 private:
  void Serve();
  void HandleConnection(int fd);

  int status_;
  bool silent_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<HttpRequest> requests_;
  std::thread thread_;
};

}  // namespace velin::testing
