#include "velin/core/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "velin/core/i18n.hpp"

namespace velin {

Result<std::string> ReadSecretFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return UsageError(TrFormat("{} does not exist", path));
    return UsageError(TrFormat("cannot read {}: {}", path, std::strerror(err)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return UsageError(TrFormat("cannot read {}: {}", path, std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return UsageError(TrFormat("{} is not a regular file", path));
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return UsageError(
        TrFormat("{} can be read by other users (mode {}); run: chmod 600 {}", path, mode, path));
  }
  std::string secret;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return UsageError(TrFormat("cannot read {}: {}", path, std::strerror(err)));
    }
    if (n == 0) break;
    secret.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return secret;
}

}  // namespace velin
