// "host:port" as users write it back: an IPv6 address in brackets ("[::1]:5432"), so that the
// port is not read as the address's last group.
#pragma once

#include <string>

namespace velin {

inline std::string HostPort(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace velin
