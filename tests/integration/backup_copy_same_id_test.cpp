// Two servers that back up at the same minute (the same cron line) into their own repositories
// and copy into one offsite repository have the same backup id. `backup copy` and create's
// offsite copy skipped an id the offsite repository already had, so the second server's
// backups never went offsite while velin said "already there". Now the second one is stored
// under the next free id of its minute there, with a warning naming both ids.
#include <gtest/gtest.h>

#include <set>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

// A host's application: its own repository, [app] host = `host`, `offsite` its backup.offsite.
class Host {
 public:
  Host(const std::string& host, const std::string& offsite)
      : app_({"storage"}, offsite.empty() ? "" : "offsite = \"" + offsite + "\"\n") {
    std::string config = ReadFileOrDie(app_.path("velin.toml"));
    config.replace(config.find("[app]\n"), 6, "[app]\nhost = \"" + host + "\"\n");
    WriteFile(app_.path("velin.toml"), config);
    WriteFile(app_.root() + "/storage/who.txt", host + "\n");
  }
  const BackupApp& app() const { return app_; }

 private:
  BackupApp app_;
};

// Both hosts' creates run at one fixed minute, as a shared cron line would (a real clock could
// begin a new minute between them, and a retry in the same repositories gets "…-2").
RunOptions OneMinute() {
  RunOptions at;
  at.env["VELIN_NOW"] = "2026-11-25T14:30:00";
  return at;
}

std::set<std::string> IdsIn(const BackupApp& app, const std::string& repo) {
  std::set<std::string> ids;
  nlohmann::json listed = app.Json({"backup", "list", "--all", "--destination", repo});
  for (const auto& b : listed["backups"]) ids.insert(b.value("id", ""));
  return ids;
}

// Must show: web1's create copies its backup offsite by itself (backup.offsite); web2's backup
// of the same minute, copied with `backup copy latest --to`, lands there as "…-2" with a
// warning; each restores its own host's files from the offsite repository; a second copy of
// either finds it there and copies nothing.
TEST(BackupCopySameId, TwoHostsBackupsOfOneMinuteBothReachTheSharedOffsiteRepository) {
  TempDir offsite_dir;
  const std::string offsite = offsite_dir / "offsite";
  Host web1("web1", offsite);
  Host web2("web2", "");
  const std::string id1 = web1.app().Json({"backup", "create"}, 0, OneMinute()).value("id", "");
  const std::string id2 = web2.app().Json({"backup", "create"}, 0, OneMinute()).value("id", "");
  ASSERT_FALSE(id1.empty());
  ASSERT_EQ(id1, id2);

  RunResult copied = web2.app().Run({"backup", "copy", "latest", "--to", offsite});
  ASSERT_EQ(copied.exit_code, 0) << copied.out << copied.err;
  const std::string as = id2 + "-2";
  EXPECT_NE(copied.err.find("backup " + id2 + " is in " + offsite + " as " + as +
                            ": a backup of host web1 already holds " + id2 + " there"),
            std::string::npos)
      << copied.err;
  EXPECT_NE(copied.out.find("1 backup copied, 0 already there"), std::string::npos) << copied.out;

  std::set<std::string> ids = IdsIn(web1.app(), offsite);
  EXPECT_TRUE(ids.count(id1) == 1 && ids.count(as) == 1) << ::testing::PrintToString(ids);
  nlohmann::json listed = web1.app().Json({"backup", "list", "--all", "--destination", offsite});
  for (const auto& b : listed["backups"]) {
    const std::string id = b.value("id", "");
    EXPECT_EQ(b.value("host", ""), id == as ? "web2" : "web1") << b;
  }

  for (const auto& [id, who] : {std::pair{id1, "web1"}, std::pair{as, "web2"}}) {
    const std::string target = offsite_dir / ("restored-" + id);
    RunResult restored = web1.app().Run(
        {"backup", "restore", id, "--all", "--destination", offsite, "--target", target});
    ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
    EXPECT_EQ(ReadFileOrDie(target + "/storage/who.txt"), std::string(who) + "\n") << id;
  }

  nlohmann::json again = web2.app().Json({"backup", "copy", "latest", "--to", offsite});
  EXPECT_EQ(again.value("snapshots_copied", -1), 0) << again;
  EXPECT_EQ(again.value("snapshots_present", -1), 1) << again;
  // ... and says where it is.
  EXPECT_EQ(again["renamed"], nlohmann::json::parse(R"([{"id":")" + id2 + R"(","as":")" + as +
                                                    R"(","host":"web1","copied":false}])"))
      << again;
  nlohmann::json web1_again = web1.app().Json({"backup", "copy", "--all", "--to", offsite});
  EXPECT_EQ(web1_again.value("snapshots_copied", -1), 0) << web1_again;
  EXPECT_EQ(IdsIn(web1.app(), offsite).size(), 2u);
}

// Must show: the JSON of a renamed copy names both ids and the host that holds the id, in
// `backup copy --json` and in create's "offsite" object.
TEST(BackupCopySameId, TheJsonOfARenamedCopyNamesBothIds) {
  TempDir offsite_dir;
  const std::string offsite = offsite_dir / "offsite";
  Host web1("web1", "");
  Host web2("web2", offsite);
  const std::string id1 = web1.app().Json({"backup", "create"}, 0, OneMinute()).value("id", "");
  // web1's backup goes offsite first, by hand; web2's create copies its own.
  web1.app().Json({"backup", "copy", id1, "--to", offsite});
  nlohmann::json created2 = web2.app().Json({"backup", "create"}, 0, OneMinute());
  ASSERT_FALSE(id1.empty());
  ASSERT_EQ(created2.value("id", ""), id1);
  ASSERT_TRUE(created2["offsite"].is_object()) << created2;
  EXPECT_EQ(created2["offsite"].value("as", ""), id1 + "-2") << created2;

  // web1 again, this time by `backup copy`: its id is taken by its own earlier copy (the
  // same snapshot) and nothing is renamed.
  nlohmann::json copied = web1.app().Json({"backup", "copy", id1, "--to", offsite});
  EXPECT_EQ(copied["renamed"], nlohmann::json::array()) << copied;
  EXPECT_EQ(copied.value("snapshots_present", -1), 1) << copied;
}

}  // namespace
}  // namespace velin::testing
