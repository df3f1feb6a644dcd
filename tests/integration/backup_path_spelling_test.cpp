// How users write directories: "storage/uploads/" with a slash at the end. Such an include made
// backups that `create` reported as good and no restore could take ("names an invalid path
// 'storage/uploads/'"; verify: "tree holds an invalid name ''"), and an exclude written
// "storage/uploads/cache/" excluded nothing.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

TEST(BackupPathSpellingTest, ADirectoryWrittenWithATrailingSlashIsBackedUpRestoredAndExcluded) {
  BackupApp app({"./storage//uploads/", "storage/uploads"},
                "exclude = [\"storage/uploads/cache/\"]\nallow_empty = [\"storage/uploads/\"]");
  WriteFile(app.root() + "/storage/uploads/a.jpg", "a");
  WriteFile(app.root() + "/storage/uploads/2024/b.jpg", "b");
  WriteFile(app.root() + "/storage/uploads/cache/c.tmp", "c");

  RunResult created = app.Run({"backup", "create"});
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  auto list = app.Json({"backup", "list"});
  EXPECT_EQ(list["backups"][0]["sources"], nlohmann::json::array({"storage/uploads"}))
      << "one source, in one spelling: " << list.dump();
  EXPECT_EQ(list["backups"][0]["files"], 2) << "the cache is excluded: " << list.dump();
  RunResult verified = app.Run({"backup", "verify", "latest"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  const std::string target = app.path("restored");
  RunResult restored = app.Run({"backup", "restore", "latest", "--target", target});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_EQ(ReadFileOrDie(target + "/storage/uploads/a.jpg"), "a");
  EXPECT_EQ(ReadFileOrDie(target + "/storage/uploads/2024/b.jpg"), "b");
  EXPECT_FALSE(fs::exists(target + "/storage/uploads/cache"));

  // --only too, and the absolute path of app.root/storage/uploads/2024 (copied from a shell).
  for (const std::string& only :
       {std::string("./storage//uploads/2024/"), app.root() + "/storage/uploads/2024"}) {
    const std::string into = app.path("only");
    fs::remove_all(into);
    RunResult one = app.Run({"backup", "restore", "latest", "--target", into, "--only", only});
    ASSERT_EQ(one.exit_code, 0) << only << ": " << one.out << one.err;
    EXPECT_EQ(ReadFileOrDie(into + "/storage/uploads/2024/b.jpg"), "b") << only;
    EXPECT_FALSE(fs::exists(into + "/storage/uploads/a.jpg")) << only;
  }
  // ls and dump name paths the same ways.
  for (const std::string& dir :
       {std::string("storage/uploads/2024/"), app.root() + "/storage/uploads/2024"}) {
    auto listed = app.Json({"backup", "ls", "latest", dir});
    EXPECT_EQ(listed["entries"].size(), 1u) << dir << ": " << listed.dump();
    RunResult dumped = app.Run({"backup", "dump", "latest", dir + "/b.jpg"});
    EXPECT_EQ(dumped.exit_code, 0) << dir << ": " << dumped.err;
    EXPECT_EQ(dumped.out, "b") << dir;
  }
  RunResult outside = app.Run(
      {"backup", "restore", "latest", "--target", app.path("x"), "--only", app.path("elsewhere")});
  EXPECT_EQ(outside.exit_code, 2) << outside.out << outside.err;

  // The restore's own patterns take the same spelling.
  const std::string part = app.path("part");
  RunResult some = app.Run({"backup", "restore", "latest", "--target", part, "--include",
                            "./storage/uploads/2024/", "--exclude", "storage/uploads/2024/x/"});
  ASSERT_EQ(some.exit_code, 0) << some.out << some.err;
  EXPECT_EQ(ReadFileOrDie(part + "/storage/uploads/2024/b.jpg"), "b");
  EXPECT_FALSE(fs::exists(part + "/storage/uploads/a.jpg"));
  RunResult none = app.Run({"backup", "restore", "latest", "--target", app.path("none"),
                            "--exclude", "storage/uploads/2024/"});
  ASSERT_EQ(none.exit_code, 0) << none.out << none.err;
  EXPECT_TRUE(fs::exists(app.path("none") + "/storage/uploads/a.jpg"));
  EXPECT_FALSE(fs::exists(app.path("none") + "/storage/uploads/2024"));
}

}  // namespace
}  // namespace velin::testing
