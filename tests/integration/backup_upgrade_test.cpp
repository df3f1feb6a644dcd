// Format versions with the real binary: `velin backup upgrade` raises the format version and
// adds the checksum and changes nothing else (a later velin's config fields stay, covered by the
// checksum); a create that read the config just before an upgrade finished, then waited for the
// lock, writes its backup at the raised version; a snapshot of a later snapshot format is
// "upgrade velin" (exit 2), not read as this velin's.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/background_velin.hpp"
#include "support/backup_fixture.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/lock.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// The repro of the audit: format version 3, no checksum, a field of a later velin at the top
// and one inside "chunker". Both were dropped by the upgrade.
TEST(BackupUpgradeTest, KeepsTheConfigFieldsOfALaterVelin) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  const std::string path = app.repo() + "/config";
  nlohmann::json config = nlohmann::json::parse(ReadFileOrDie(path));
  config["format_version"] = 3;
  config.erase("checksum");
  config["compression_dict"] = "abc";
  config["chunker"]["extra"] = 1;
  WriteFile(path, config.dump(1) + "\n");

  nlohmann::json upgraded = app.Json({"backup", "upgrade"});
  EXPECT_EQ(upgraded["from"], 3) << upgraded;
  EXPECT_EQ(upgraded["checksum_added"], true) << upgraded;
  nlohmann::json after = nlohmann::json::parse(ReadFileOrDie(path));
  EXPECT_EQ(after["format_version"], 4) << after;
  EXPECT_EQ(after["compression_dict"], "abc") << after;
  EXPECT_EQ(after["chunker"]["extra"], 1) << after;
  // The checksum covers them: every command opens the repository, and an edit of one is damage.
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  nlohmann::json verified = app.Json({"backup", "verify", "--all"});
  EXPECT_EQ(verified["config"], "intact") << verified;
  after["compression_dict"] = "abd";
  WriteFile(path, after.dump(1) + "\n");
  RunResult edited = app.Run({"backup", "list"});
  EXPECT_EQ(edited.exit_code, 4) << edited.err;
  EXPECT_NE(edited.err.find("has been changed or damaged"), std::string::npos) << edited.err;
}

// Waits (up to 60 s) until an entry whose name begins with `prefix` is created in (or renamed
// into) the directory the inotify instance `inotify_fd` watches; whether one was.
bool UpgradeTestAwaitEntry(int inotify_fd, const std::string& prefix) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  alignas(inotify_event) char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{.fd = inotify_fd, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const ssize_t n = ::read(inotify_fd, buf, sizeof buf);
    for (ssize_t at = 0; at < n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buf + at);
      if (e->len > 0 && std::string(e->name).rfind(prefix, 0) == 0) return true;
      at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
  }
  return false;
}

// A create reads the config when it opens the repository, before it takes its lock. An upgrade
// that finished in between (here: the upgraded config put in place while an exclusive lock keeps
// the create waiting) left it at the old version: it skipped the fifo, saying version 3 cannot
// store it, though the repository was at 4 when the backup was committed.
TEST(BackupUpgradeTest, ACreateThatWaitedForTheLockWritesAtTheRaisedVersion) {
  BackupApp app;
  const std::string s = app.root() + "/storage";
  WriteFile(s + "/a.txt", "alpha\n");
  ASSERT_EQ(::mkfifo((s + "/pipe").c_str(), 0600), 0);
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  WriteOlderFormatConfig(app.repo(), 3);
  // The config `velin backup upgrade` writes for this repository, from a copy of it.
  const std::string twin = app.path("twin");
  fs::copy(app.repo(), twin, fs::copy_options::recursive);
  ASSERT_EQ(app.Run({"backup", "upgrade", "--destination", twin}).exit_code, 0);
  const std::string raised = ReadFileOrDie(twin + "/config");
  ASSERT_NE(raised.find("\"format_version\": 4"), std::string::npos) << raised;

  // An exclusive lock of a live process (this test): the create waits for it.
  fs::create_directories(app.repo() + "/locks");
  const std::string held = app.repo() + "/locks/exclusive-upgrading";
  WriteFile(held, repo::FormatLockRecord(repo::LockRecord{io::Env::Default().ThisProcess(),
                                                          "exclusive", ::time(nullptr)}));
  struct Watch {
    int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    ~Watch() {
      if (fd >= 0) ::close(fd);
    }
  } watch;
  ASSERT_GE(watch.fd, 0);
  ASSERT_GE(::inotify_add_watch(watch.fd, (app.repo() + "/locks").c_str(), IN_CREATE | IN_MOVED_TO),
            0);
  RunOptions o;
  o.cwd = app.path(".");
  BackgroundVelin create({"backup", "create", "--lock-wait", "60s"}, o);
  // Its shared lock object appears when it tries for the lock: the config is read by then.
  ASSERT_TRUE(UpgradeTestAwaitEntry(watch.fd, "shared-"));
  WriteFile(app.repo() + "/config.new", raised);  // the upgrade's one atomic write
  fs::rename(app.repo() + "/config.new", app.repo() + "/config");
  fs::remove(held);

  RunResult r = create.Finish();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("cannot store"), std::string::npos) << r.err;
  const std::string target = app.path("restored");
  ASSERT_EQ(app.Run({"backup", "restore", "latest", "--target", target}).exit_code, 0);
  struct stat st {};
  ASSERT_EQ(::lstat((target + "/storage/pipe").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

// The snapshot object's "format" was never read: a later velin's format 2 snapshot was listed,
// restored and pruned by as a format 1 one.
TEST(BackupUpgradeTest, ASnapshotOfALaterFormatIsUpgradeVelin) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  const std::string id = app.Json({"backup", "create"})["id"].get<std::string>();
  const std::string path = app.repo() + "/snapshots/" + id;
  nlohmann::json snapshot = nlohmann::json::parse(ReadFileOrDie(path));
  ASSERT_EQ(snapshot["format"], 1) << snapshot;
  snapshot["format"] = 2;
  WriteFile(path, snapshot.dump(1) + "\n");
  const std::string says = "snapshot " + id +
                           ": written by a newer velin (snapshot format 2; this velin reads "
                           "format 1): upgrade velin";
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"backup", "list"},
        {"backup", "restore", "latest", "--target", app.path("out")},
        {"backup", "prune"}}) {
    RunResult r = app.Run(command);
    EXPECT_EQ(r.exit_code, 2) << command[1] << ": " << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << command[1] << ": " << r.err;
  }
  EXPECT_FALSE(fs::exists(app.path("out/storage/a.txt")));
  snapshot["format"] = "1";
  WriteFile(path, snapshot.dump(1) + "\n");
  RunResult damaged = app.Run({"backup", "verify", "--all"});
  EXPECT_EQ(damaged.exit_code, 4) << damaged.err;
  EXPECT_NE((damaged.out + damaged.err).find("invalid snapshot format \"1\""), std::string::npos)
      << damaged.out << damaged.err;
}

}  // namespace
}  // namespace velin::testing
