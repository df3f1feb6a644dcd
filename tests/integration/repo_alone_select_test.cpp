// A repository alone (no velin.toml, --repo): --host or --app given alone narrow by that one
// only (docs/cli.md, "A repository alone"). The default app name of a velin without config is
// the current directory's name: run from a directory named like one of the apps, a --host alone
// once filtered by that app too and showed only part of the host's backups.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// Three groups in one unencrypted repository: web1/shop, web2/shop, web1/blog (newest).
class RepoAloneSelect : public ::testing::Test {
 protected:
  void SetUp() override {
    Backup("web1", "shop", "shop of web1");
    Backup("web2", "shop", "shop of web2");
    Backup("web1", "blog", "blog of web1");
    // The new machine: an empty directory named like one of the apps, no velin.toml above it.
    fs::create_directories(machine_ / "shop");
  }

  void Backup(const std::string& host, const std::string& app, const std::string& content) {
    const fs::path dir = servers_ / (host + "-" + app);
    WriteFile(dir / "app/data/file.txt", content);
    WriteFile(dir / "velin.toml", "[app]\nroot = \"app\"\nname = \"" + app + "\"\nhost = \"" +
                                      host +
                                      "\"\n[backup]\ninclude = [\"data\"]\ndestination = \"" +
                                      repo() + "\"\nencryption = \"none\"\n");
    RunOptions o;
    o.cwd = dir.string();
    RunResult r = RunVelin({"backup", "create"}, o);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  std::string repo() const { return servers_ / "repo"; }

  // `velin ARGS --repo REPO` in the machine's "shop" directory, without any config.
  RunResult RunAlone(std::vector<std::string> args) const {
    args.insert(args.end(), {"--repo", repo()});
    RunOptions o;
    o.cwd = machine_ / "shop";
    o.env = {{"HOME", machine_.path()}, {"VELIN_CACHE_DIR", machine_ / "cache"}};
    o.unset_env = {"VELIN_CONFIG", "VELIN_REPOSITORY", "VELIN_PASSPHRASE", "VELIN_APP_HOST",
                   "VELIN_APP_NAME"};
    o.timeout_seconds = 60;
    return RunVelin(args, o);
  }

  // The (host, app) pairs `list --json` shows, and the list's own "host"/"app".
  std::set<std::string> Listed(const std::vector<std::string>& select, nlohmann::json* top) {
    std::vector<std::string> args = {"backup", "list", "--json"};
    args.insert(args.end(), select.begin(), select.end());
    RunResult r = RunAlone(args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    std::set<std::string> out;
    if (!j.is_object()) {
      ADD_FAILURE() << r.out;
      return out;
    }
    for (const auto& b : j["backups"]) {
      out.insert(b["host"].get<std::string>() + "/" + b["app"].get<std::string>());
    }
    if (top != nullptr) *top = j;
    return out;
  }

  TempDir servers_;
  TempDir machine_;
};

TEST_F(RepoAloneSelect, HostAloneListsEveryAppOfThatHost) {
  nlohmann::json top;
  EXPECT_EQ(Listed({"--host", "web1"}, &top), (std::set<std::string>{"web1/shop", "web1/blog"}));
  EXPECT_EQ(top["host"], "web1");
  EXPECT_TRUE(top["app"].is_null()) << top.dump();
  EXPECT_EQ(top["other_backups"], 1);
  EXPECT_EQ(Listed({"--app", "shop"}, &top), (std::set<std::string>{"web1/shop", "web2/shop"}));
  EXPECT_TRUE(top["host"].is_null()) << top.dump();
  EXPECT_EQ(top["app"], "shop");
  EXPECT_EQ(Listed({"--host", "web1", "--app", "shop"}, nullptr),
            (std::set<std::string>{"web1/shop"}));
  EXPECT_EQ(Listed({}, nullptr), (std::set<std::string>{"web1/shop", "web2/shop", "web1/blog"}));
  // A host with no backups is an empty list, not some other host's.
  EXPECT_EQ(Listed({"--host", "web3"}, nullptr), std::set<std::string>{});
}

TEST_F(RepoAloneSelect, LatestOfAHostAloneIsItsNewestOfAnyApp) {
  // restore, ls, find and stats take `latest` through the same selection: web1's newest is blog.
  RunResult r = RunAlone({"backup", "restore", "latest", "--host", "web1", "--target", "out"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFileOrDie(machine_ / "shop/out/data/file.txt"), "blog of web1");

  r = RunAlone({"backup", "restore", "latest", "--app", "shop", "--target", "out2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFileOrDie(machine_ / "shop/out2/data/file.txt"), "shop of web2");

  r = RunAlone({"backup", "ls", "latest", "data", "--host", "web1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto ls = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(ls.is_object()) << r.out;
  r = RunAlone({"backup", "list", "--host", "web1", "--app", "blog", "--json"});
  auto blog = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(blog.is_object() && blog["backups"].size() == 1) << r.out;
  EXPECT_EQ(ls["id"], blog["backups"][0]["id"]) << ls.dump();

  r = RunAlone({"backup", "stats", "latest", "--host", "web1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto stats = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(stats.is_object()) << r.out;
  EXPECT_EQ(stats["id"], blog["backups"][0]["id"]) << stats.dump();

  // find searches every backup of the selection: web1's two, not web2's.
  r = RunAlone({"backup", "find", "file.txt", "--host", "web1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto found = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(found.is_object()) << r.out;
  EXPECT_EQ(found["matches"].size(), 2u) << found.dump();

  // A host alone that matches nothing names what it looked for.
  r = RunAlone({"backup", "restore", "latest", "--host", "web3", "--target", "out3"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("host 'web3', every app"), std::string::npos) << r.err;
}

// Neither --host, --app nor --all, in a repository three groups share: the newest of them all
// was some other application's (web2's shop here), restored with exit 0. `latest` is now
// refused as ambiguous, naming the groups; --all keeps the newest of them all; and a group
// alone in the repository needs no choosing.
TEST_F(RepoAloneSelect, LatestWithoutHostOrAppOverSeveralGroupsIsRefused) {
  RunResult r = RunAlone({"backup", "restore", "latest", "--target", "out"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("`latest` is ambiguous"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(web1/blog, web1/shop, web2/shop)"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(machine_ / "shop/out"));
  r = RunAlone({"backup", "verify", "latest"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  r = RunAlone({"backup", "restore", "latest", "--all", "--target", "out"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace velin::testing
