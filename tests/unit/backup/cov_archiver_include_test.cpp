// backup.include entries that are symlinks to files, symlinks to symlinks, or special files,
// on a MemEnv: a link to a file is followed (relative or absolute) and recorded in the
// snapshot, a chain of links and a FIFO are refused with one line naming the include and the
// path, and no snapshot is written for them.
#include "mem_repo.hpp"
#include "velin/backup/inspect.hpp"

namespace velin::backup {
namespace {

class CovArchiverIncludeTest : public MemRepoTest {
 protected:
  Result<repo::Snapshot> BackupOf(std::vector<std::string> include) {
    Reopen();
    CreateOptions o;
    o.app_root = "/app";
    o.include = std::move(include);
    o.codec = repo::Codec::kZstd;
    o.velin_version = "test";
    o.app = "shop";
    auto s = CreateBackup(*repo_, env_, quiet_, o);
    Reopen();  // the index as a later command loads it, with this backup's blobs
    return s;
  }

  std::string Bytes(const repo::Snapshot& s, const std::string& path) {
    std::string out;
    Status st = DumpPath(*repo_, s, path, [&](std::string_view piece) {
      out.append(piece);
      return Ok();
    });
    EXPECT_TRUE(st) << st.error().message;
    return out;
  }

  size_t Snapshots() {
    auto ids = repo_->ListSnapshotIds();
    EXPECT_TRUE(ids);
    return ids ? ids->size() : 0;
  }
};

TEST_F(CovArchiverIncludeTest, AnIncludeThatIsALinkToAFileIsFollowedAndRecorded) {
  Put("shared/app.env", "APP_KEY=abc\n");
  Put("shared/.htaccess", "Deny from all\n");
  ASSERT_TRUE(io::CreateDirs(env_, "/etc/shop"));
  auto f = env_.NewWritableFile("/etc/shop/php.ini", {.mode = 0600});
  ASSERT_TRUE(f);
  ASSERT_TRUE((*f)->Append("memory_limit=1G\n"));
  ASSERT_TRUE((*f)->Close());
  ASSERT_TRUE(env_.Symlink("shared/app.env", "/app/.env"));        // relative
  ASSERT_TRUE(env_.Symlink("/etc/shop/php.ini", "/app/php.ini"));  // absolute

  auto snap = BackupOf({".env", "php.ini"});
  ASSERT_TRUE(snap) << snap.error().message;
  const repo::SnapshotSource* env_source = snap->FindSource(".env");
  const repo::SnapshotSource* ini_source = snap->FindSource("php.ini");
  ASSERT_TRUE(env_source && ini_source);
  EXPECT_EQ(env_source->links, (std::map<std::string, std::string>{{".env", "shared/app.env"}}));
  EXPECT_EQ(ini_source->links,
            (std::map<std::string, std::string>{{"php.ini", "/etc/shop/php.ini"}}));
  EXPECT_EQ(env_source->bytes, 12u);
  EXPECT_EQ(Bytes(*snap, ".env"), "APP_KEY=abc\n");
  EXPECT_EQ(Bytes(*snap, "php.ini"), "memory_limit=1G\n");
}

TEST_F(CovArchiverIncludeTest, AnIncludeThatIsALinkToALinkIsRefusedNamingBoth) {
  Put("shared/app.env", "APP_KEY=abc\n");
  ASSERT_TRUE(env_.Symlink("shared/app.env", "/app/env.link"));
  ASSERT_TRUE(env_.Symlink("env.link", "/app/.env"));
  auto snap = BackupOf({".env"});
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.error().message,
            "backup.include '.env': /app/.env is a symlink to a symlink (env.link); name its "
            "final target");
  EXPECT_EQ(Snapshots(), 0u);
}

TEST_F(CovArchiverIncludeTest, AnIncludeThatIsAFifoIsRefusedNamingIt) {
  auto dir = env_.OpenDir("/app");
  ASSERT_TRUE(dir) << dir.error().message;
  ASSERT_TRUE(env_.MakeNodeAt(**dir, "queue", io::SpecialKind::kFifo, 0600, 0));
  auto snap = BackupOf({"queue"});
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.error().message, "backup.include 'queue': /app/queue is not a file or directory");
  EXPECT_EQ(Snapshots(), 0u);
}

// The system reads "a\0b" as "a": the backup recorded a's bytes under the name "a\0b", which
// no ls, restore or verify could read. Refused before anything is written.
TEST_F(CovArchiverIncludeTest, AnIncludeWithANulIsRefusedAndNothingIsWritten) {
  Put("a", "x\n");
  auto snap = BackupOf({std::string("a\0b", 3)});
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.error().code, ExitCode::kUsage);
  EXPECT_NE(snap.error().message.find("holds a NUL character"), std::string::npos)
      << snap.error().message;
  EXPECT_EQ(Snapshots(), 0u);
}

}  // namespace
}  // namespace velin::backup
