// FtpServer of remote_servers.hpp: vsftpd on a loopback port, logging in a local system user.
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <stdexcept>

#include "support/remote_servers.hpp"

namespace velin::testing {
namespace {

// vsftpd authenticates through PAM, so the test user must exist in /etc/passwd.
// scripts/deps/remote.sh creates it; this is the fallback for a machine set up by hand.
void EnsureFtpUser() {
  if (getpwnam(FtpServer::kUser) != nullptr) return;
  int lock = ::open("/tmp/velin-ftp-user.lock", O_CREAT | O_RDWR, 0600);
  ::flock(lock, LOCK_EX);
  if (getpwnam(FtpServer::kUser) == nullptr) {
    auto added = RunProgram({"useradd", "--system", "--no-create-home", "--home-dir", "/",
                             "--shell", "/bin/sh", FtpServer::kUser});
    RunOptions pw;
    pw.stdin_data = std::string(FtpServer::kUser) + ":" + FtpServer::kPassword + "\n";
    auto set = RunProgram({"chpasswd"}, pw);
    if (added.exit_code != 0 || set.exit_code != 0) {
      ::close(lock);
      throw std::runtime_error("cannot create the FTP test user (needs root): " + added.err +
                               set.err);
    }
  }
  ::close(lock);
}

}  // namespace

void FtpServer::EnsureUser() { EnsureFtpUser(); }

FtpServer::FtpServer() {
  if (!std::filesystem::exists("/usr/sbin/vsftpd")) {
    throw std::runtime_error("/usr/sbin/vsftpd is missing: run scripts/install-deps.sh (vsftpd)");
  }
  EnsureFtpUser();
  passwd* pw = getpwnam(kUser);
  port_ = FreeLoopbackPort();
  // The FTP user must be able to reach its root inside our (root-only) temp dir.
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
  std::filesystem::create_directories(dir_ / "root");
  std::filesystem::create_directories(dir_ / "empty");
  if (::chown((dir_ / "root").c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::runtime_error("cannot chown the FTP root to " + std::string(kUser));
  }
  std::random_device rd;
  int pasv = 30000 + static_cast<int>(rd() % 300) * 100;
  WriteFile(
      dir_ / "vsftpd.conf",
      "listen=YES\nlisten_ipv6=NO\nlisten_address=127.0.0.1\nlisten_port=" + std::to_string(port_) +
          "\nbackground=NO\nanonymous_enable=NO\nlocal_enable=YES\nwrite_enable=YES\n"
          "local_umask=077\nlocal_root=" +
          (dir_ / "root") +
          "\nchroot_local_user=NO\npasv_enable=YES\npasv_address=127.0.0.1\n"
          "pasv_min_port=" +
          std::to_string(pasv) + "\npasv_max_port=" + std::to_string(pasv + 99) +
          "\nsecure_chroot_dir=" + (dir_ / "empty") +
          "\npam_service_name=vsftpd\nseccomp_sandbox=NO\nisolate=NO\nisolate_network=NO\n"
          "xferlog_enable=NO\nmax_per_ip=0\nmax_clients=0\ndelay_failed_login=0\n",
      0600);
  std::string command = "exec /usr/sbin/vsftpd '" + (dir_ / "vsftpd.conf") + "' >'" +
                        (dir_ / "vsftpd.log") + "' 2>&1";
  ProcessOptions options;
  options.argv = {"/bin/sh", "-c", command};
  auto process = Subprocess::Start(options);
  if (!process) throw std::runtime_error("cannot start vsftpd");
  process_ = ServerProcess(std::move(*process));
  if (!WaitForPort(port_, 10000)) throw std::runtime_error("vsftpd did not start");
}

std::string FtpServer::Url(const std::string& path) const {
  return "ftp://" + std::string(kUser) + "@127.0.0.1:" + std::to_string(port_) + "/" + path;
}

}  // namespace velin::testing
