// Backups that earlier velins made of an include written with a trailing slash
// ("storage/uploads/"): the source was recorded under that spelling, its top node with the name
// "" and its hardlinks' targets as "/a.txt". No velin could read them (restore, verify, prune and
// stats failed on them). They are read now in the spelling an include has today
// (docs/repository-format.md, "Source names"); crafted here exactly as those velins wrote them.
#include <sys/stat.h>

#include <filesystem>

#include "support/backup_fixture.hpp"
#include "support/crafted_repo.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

repo::Node LegacyFile(const std::string& name) {
  repo::Node n;
  n.type = repo::NodeType::kFile;
  n.name = name;
  n.mode = 0644;
  n.size = sizeof(kCraftedContent) - 1;
  n.content.push_back(repo::Sha256(kCraftedContent));
  return n;
}

repo::Node LegacyLink(const std::string& name, const std::string& target) {
  repo::Node n = LegacyFile(name);
  n.type = repo::NodeType::kHardlink;
  n.content.clear();
  n.target = target;
  return n;
}

repo::Node LegacyDir(const std::string& name, const repo::Tree& listing) {
  repo::Node n;
  n.type = repo::NodeType::kDir;
  n.name = name;
  n.mode = 0755;
  n.subtree = repo::Sha256(repo::EncodeTree(listing));
  return n;
}

// storage/uploads/{a.txt, b.txt (a hardlink of a.txt), sub/c.txt, sub/d.txt (one of a.txt)} as
// a velin of before 2026-12-06 recorded it for include = ["storage/uploads/"].
void CraftLegacyBackup(const std::string& repo_dir, const std::string& id, const std::string& host,
                       const std::string& app) {
  const repo::Tree sub = TreeOf({LegacyFile("c.txt"), LegacyLink("d.txt", "/a.txt")});
  const repo::Tree uploads =
      TreeOf({LegacyFile("a.txt"), LegacyLink("b.txt", "/a.txt"), LegacyDir("sub", sub)});
  // And an include written "./storage//notes": its top node had a name, the source's name
  // was the one no restore took.
  const repo::Tree notes = TreeOf({LegacyFile("n.txt")});
  CraftSnapshot(repo_dir, id,
                {{"storage/uploads/", TreeOf({LegacyDir("", uploads)})},
                 {"./storage//notes", TreeOf({LegacyDir("notes", notes)})}},
                {sub, uploads, notes}, host, app);
}

void ExpectRestoredTree(const std::string& target) {
  const std::string up = target + "/storage/uploads";
  for (const char* name : {"a.txt", "b.txt", "sub/c.txt", "sub/d.txt"}) {
    EXPECT_EQ(ReadFileOrDie(up + "/" + name), kCraftedContent) << name;
  }
  struct stat a {
  }, b{}, d{};
  ASSERT_EQ(::stat((up + "/a.txt").c_str(), &a), 0);
  ASSERT_EQ(::stat((up + "/b.txt").c_str(), &b), 0);
  ASSERT_EQ(::stat((up + "/sub/d.txt").c_str(), &d), 0);
  EXPECT_EQ(a.st_ino, b.st_ino) << "b.txt is restored as a hardlink of a.txt";
  EXPECT_EQ(a.st_ino, d.st_ino) << "sub/d.txt too";
  EXPECT_FALSE(fs::exists(target + "/storage/a.txt")) << "nothing lands beside the source";
  EXPECT_EQ(ReadFileOrDie(target + "/storage/notes/n.txt"), kCraftedContent);
}

TEST(BackupLegacySourceTest, ABackupOfAnIncludeWithATrailingSlashIsReadByEveryCommand) {
  BackupApp app({"storage/uploads"}, "keep_last = 10");
  fs::create_directories(app.root() + "/storage/uploads");
  WriteFile(app.root() + "/storage/uploads/new.txt", "today\n");
  // The host and application a backup here records, from one into a repository of its own.
  const std::string probe = app.path("probe");
  ASSERT_EQ(app.Run({"backup", "create", "--destination", probe}).exit_code, 0);
  const nlohmann::json probed = app.Json({"backup", "list", "--destination", probe});
  ASSERT_EQ(probed["backups"].size(), 1u) << probed.dump();
  const std::string host = probed["backups"][0].value("host", "");
  const std::string app_name = probed["backups"][0].value("app", "");
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  const std::string old_id = "20260101-0000-full";
  CraftLegacyBackup(app.repo(), old_id, host, app_name);

  nlohmann::json list = app.Json({"backup", "list"});
  ASSERT_EQ(list["backups"].size(), 1u) << list.dump();
  EXPECT_EQ(list["backups"][0]["id"], old_id);

  RunResult verified = app.Run({"backup", "verify", "--all"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  RunResult restored = app.Run({"backup", "restore", old_id, "--target", app.path("out")});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  ExpectRestoredTree(app.path("out"));
  RunResult only = app.Run({"backup", "restore", old_id, "--only", "storage/uploads/sub/d.txt",
                            "--target", app.path("only")});
  ASSERT_EQ(only.exit_code, 0) << only.out << only.err;
  EXPECT_EQ(ReadFileOrDie(app.path("only/storage/uploads/sub/d.txt")), kCraftedContent);

  RunResult dumped = app.Run({"backup", "dump", old_id, "storage/uploads/b.txt"});
  EXPECT_EQ(dumped.exit_code, 0) << dumped.err;
  EXPECT_EQ(dumped.out, kCraftedContent);
  RunResult listed = app.Run({"backup", "ls", old_id, "storage/uploads/", "-R"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("storage/uploads/sub/c.txt"), std::string::npos) << listed.out;
  RunResult stats = app.Run({"backup", "stats"});
  EXPECT_EQ(stats.exit_code, 0) << stats.out << stats.err;

  // A backup today takes the old one for its parent (the same include, spelled as today) and
  // stands beside it; prune keeps both readable; a copy carries the old one as it is.
  nlohmann::json created = app.Json({"backup", "create", "--strategy", "incremental"});
  const std::string new_id = created["id"];
  ASSERT_FALSE(new_id.empty()) << created.dump();
  EXPECT_EQ(created["parent"], old_id) << created.dump();
  RunResult diff = app.Run({"backup", "diff", old_id, new_id});
  EXPECT_EQ(diff.exit_code, 0) << diff.out << diff.err;
  EXPECT_NE(diff.out.find("new.txt"), std::string::npos) << diff.out;
  RunResult pruned = app.Run({"backup", "prune"});
  EXPECT_EQ(pruned.exit_code, 0) << pruned.out << pruned.err;
  RunResult copied = app.Run({"backup", "copy", "--all", "--to", app.path("copy")});
  EXPECT_EQ(copied.exit_code, 0) << copied.out << copied.err;
  for (const std::string& repo : {app.repo(), app.path("copy")}) {
    RunResult again = app.Run({"backup", "verify", "--all", "--destination", repo});
    EXPECT_EQ(again.exit_code, 0) << repo << again.out << again.err;
    const std::string target = repo + "-restored";
    RunResult back =
        app.Run({"backup", "restore", old_id, "--destination", repo, "--target", target});
    ASSERT_EQ(back.exit_code, 0) << repo << back.out << back.err;
    ExpectRestoredTree(target);
    fs::remove_all(target);
  }
  RunResult latest = app.Run({"backup", "restore", "latest", "--target", app.path("today")});
  ASSERT_EQ(latest.exit_code, 0) << latest.out << latest.err;
  EXPECT_EQ(ReadFileOrDie(app.path("today/storage/uploads/new.txt")), "today\n");
  EXPECT_FALSE(fs::exists(app.path("today/storage/uploads/a.txt")));
}

}  // namespace
}  // namespace velin::testing
