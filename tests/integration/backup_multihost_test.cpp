// Several hosts and applications backing up into one repository (issue 18): each simulated host
// is its own app directory with its own [app] host / name and its own cache, all writing to one
// bucket of a real S3 server (s3rver on loopback). What a user of a shared repository relies on:
// one host's retention never forgets another's backups, `restore latest` restores this host's
// files, concurrent creates and a prune lose nothing, and the "server is gone" steps of
// docs/operations.md work as written on a machine that never made a backup.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// One machine: <tmp>/velin.toml, the application in <tmp>/<app>, its own velin cache.
class SimHost {
 public:
  // `host` "" leaves [app] host unset (the machine's own name); `extra` goes into [backup].
  SimHost(const S3Server& server, const std::string& url, const std::string& host,
          const std::string& app, const std::string& extra = "",
          const std::vector<std::string>& include = {"storage"}, const std::string& tail = "")
      : app_(app) {
    std::string list;
    for (const auto& i : include) list += (list.empty() ? "\"" : ", \"") + i + "\"";
    WriteFile(dir_ / "velin.toml", "[app]\nroot = \"" + app + "\"\n" +
                                       (host.empty() ? "" : "host = \"" + host + "\"\n") +
                                       "[backup]\ninclude = [" + list + "]\ndestination = \"" +
                                       url + "\"\n" + extra + "\n[storage.s3]\nendpoint = \"" +
                                       server.endpoint() +
                                       "\"\nregion = \"us-east-1\"\npath_style = true\n" + tail);
    fs::create_directories(root() + "/storage");
  }
  std::string root() const { return dir_ / app_; }
  std::string dir() const { return dir_.path(); }
  std::string path(const std::string& rel) const { return dir_ / rel; }

  // `env`: more of the environment (VELIN_NOW).
  RunResult Run(std::vector<std::string> args,
                const std::map<std::string, std::string>& env = {}) const {
    RunOptions o;
    o.cwd = dir_.path();
    o.timeout_seconds = 120;
    o.env = {{"AWS_ACCESS_KEY_ID", S3Server::kAccessKey},
             {"AWS_SECRET_ACCESS_KEY", S3Server::kSecretKey},
             {"VELIN_CACHE_DIR", cache_.path()}};
    o.env.insert(env.begin(), env.end());
    return RunVelin(args, o);
  }
  nlohmann::json Json(std::vector<std::string> args, int expected_exit = 0,
                      const std::map<std::string, std::string>& env = {}) const {
    args.push_back("--json");
    RunResult r = Run(args, env);
    EXPECT_EQ(r.exit_code, expected_exit) << "velin " << args[0] << " " << args[1] << "\n"
                                          << r.out << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_discarded() ? nlohmann::json::object() : j;
  }
  // `backup create`; the new backup's id ("" on failure).
  std::string Create(const std::map<std::string, std::string>& env = {}) const {
    return Json({"backup", "create", "--lock-wait", "60s"}, 0, env).value("id", std::string());
  }
  // The ids `backup list` shows with these extra flags, oldest first.
  std::vector<std::string> Ids(std::vector<std::string> flags = {}) const {
    std::vector<std::string> args = {"backup", "list"};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<std::string> ids;
    const nlohmann::json listed = Json(args);
    for (const auto& b : listed["backups"]) ids.push_back(b.value("id", ""));
    return ids;
  }

 private:
  std::string app_;
  TempDir dir_;
  TempDir cache_;
};

// s3rver's log, shown when a test fails (a crashed server explains a run of failures).
struct ServerLogOnFailure {
  const S3Server& server;
  ~ServerLogOnFailure() {
    if (::testing::Test::HasFailure()) {
      std::cerr << "s3rver.log:\n" << ReadFileOrDie(server.data_dir() + "/s3rver.log") << "\n";
    }
  }
};

std::set<std::string> SetOf(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

// Must show: two hosts (and a second app on the first host) share one S3 repository; host A's
// forget — after create, explicit, and with the equal times of backups made in one second —
// keeps every backup of host B and of the other app, and `restore latest` on A restores A's
// files.
TEST(MultiHostBackup, ForgetOnOneHostKeepsTheOtherHostsBackupsAndLatestIsThisHosts) {
  S3Server server;
  const std::string url = "s3://bkt/fleet";
  SimHost a(server, url, "web1", "shop", "keep_last = 1\n");
  SimHost b(server, url, "web2", "shop");  // no rule: keeps everything
  SimHost blog(server, url, "web1", "blog");
  WriteFile(a.root() + "/storage/who.txt", "web1 shop\n");
  WriteFile(blog.root() + "/storage/who.txt", "web1 blog\n");

  std::vector<std::string> b_ids;
  for (int i = 0; i < 3; ++i) {
    WriteFile(b.root() + "/storage/who.txt", "web2 shop, backup " + std::to_string(i) + "\n");
    b_ids.push_back(b.Create());
  }
  const std::vector<std::string> blog_ids = {blog.Create(), blog.Create()};
  // A's backups land in the same minute as B's, most in the same second: A's keep_last = 1
  // (prune_after_create) must keep the one just made and nothing of B or the blog.
  std::string a_last;
  for (int i = 0; i < 3; ++i) {
    WriteFile(a.root() + "/storage/n.txt", std::to_string(i));
    a_last = a.Create();
    ASSERT_FALSE(a_last.empty());
    EXPECT_EQ(a.Ids(), std::vector<std::string>{a_last}) << "A keeps exactly its newest";
  }
  EXPECT_EQ(a.Run({"backup", "forget"}).exit_code, 0);
  EXPECT_EQ(SetOf(a.Ids({"--host", "web2"})), SetOf(b_ids)) << "A's forget kept all of B's";
  EXPECT_EQ(SetOf(a.Ids({"--app", "blog"})), SetOf(blog_ids)) << "and all of the other app's";
  EXPECT_EQ(a.Ids({"--all"}).size(), 6u);

  // The listing says who made each backup, and what it leaves out.
  RunResult listed = a.Run({"backup", "list"});
  EXPECT_NE(listed.out.find("web1"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("5 backup(s) of other hosts or apps not shown"), std::string::npos)
      << listed.out;
  auto all = a.Json({"backup", "list", "--all"});
  std::map<std::string, std::string> owner;
  for (const auto& s : all["backups"])
    owner[s["id"]] = s.value("host", "") + "/" + s.value("app", "");
  EXPECT_EQ(owner[a_last], "web1/shop");
  EXPECT_EQ(owner[b_ids[0]], "web2/shop");
  EXPECT_EQ(owner[blog_ids[0]], "web1/blog");

  // restore / verify / status `latest` on A: A's backup, A's files.
  RunResult restored = a.Run({"backup", "restore", "latest", "--target", a.path("out")});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_EQ(DescribeTree(a.path("out")), DescribeTree(a.root()));
  EXPECT_EQ(ReadFileOrDie(a.path("out/storage/who.txt")), "web1 shop\n");
  EXPECT_EQ(a.Json({"backup", "status"})["newest"].value("id", ""), a_last);
  auto verified = a.Json({"backup", "verify", "latest"});
  EXPECT_EQ(verified["backups"], nlohmann::json::array({a_last})) << verified.dump();
  // --host chooses B's newest; an explicit id works whatever its host.
  ASSERT_EQ(
      a.Run({"backup", "restore", "latest", "--host", "web2", "--target", a.path("b")}).exit_code,
      0);
  EXPECT_EQ(ReadFileOrDie(a.path("b/storage/who.txt")), "web2 shop, backup 2\n");
  ASSERT_EQ(a.Run({"backup", "restore", b_ids[0], "--target", a.path("b0")}).exit_code, 0);
  EXPECT_EQ(ReadFileOrDie(a.path("b0/storage/who.txt")), "web2 shop, backup 0\n");

  // forget --all: A's rules, each group on its own; the dry run shows the three groups.
  auto plan = a.Json({"backup", "forget", "--all", "--dry-run"});
  ASSERT_EQ(plan["groups"].size(), 3u) << plan.dump();
  std::set<std::string> would;
  for (const auto& id : plan["forgotten"]) would.insert(id);
  EXPECT_EQ(would, (std::set<std::string>{b_ids[0], b_ids[1], blog_ids[0]})) << plan.dump();
  // Bad combinations are one clear line, exit 2.
  RunResult bad = a.Run({"backup", "list", "--all", "--host", "web2"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--all"), std::string::npos) << bad.err;
  RunResult none = a.Run({"backup", "restore", "latest", "--host", "web9", "--target", "x"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("no backup of host 'web9', app 'shop'"), std::string::npos) << none.err;
}

// Four hosts back up at once while a fifth process prunes, three rounds: every create succeeds,
// no backup is lost, each host's keep_last = 2 leaves exactly its own two newest, everything
// verifies, and each host's latest restores its own files.
TEST(MultiHostBackup, FourHostsCreatingWhileOnePrunesLoseNothing) {
  S3Server server;
  ServerLogOnFailure log{server};
  const std::string url = "s3://bkt/fleet";
  const std::string shared = RandomData(300 << 10, 7);  // the uploads every host has
  std::vector<std::unique_ptr<SimHost>> hosts;
  for (int h = 1; h <= 4; ++h) {
    hosts.push_back(std::make_unique<SimHost>(server, url, "web" + std::to_string(h), "shop",
                                              "keep_last = 2\n"));
    WriteFile(hosts.back()->root() + "/storage/uploads/shared.bin", shared);
  }
  SimHost pruner(server, url, "ops", "shop");
  // A shared repository is initialised once, before the hosts' first backups
  // (docs/operations.md, "Many hosts and apps in one repository").
  ASSERT_EQ(pruner.Run({"backup", "init"}).exit_code, 0);
  server.PinRepositoryDirectories("fleet");  // s3rver's own race, not velin's
  const auto started = std::chrono::steady_clock::now();
  constexpr int kRounds = 3;
  std::vector<std::vector<std::string>> made(hosts.size());
  int prunes = 0;
  for (int round = 0; round < kRounds; ++round) {
    for (size_t h = 0; h < hosts.size(); ++h) {
      WriteFile(hosts[h]->root() + "/storage/own.txt",
                "host " + std::to_string(h + 1) + " round " + std::to_string(round) + "\n" +
                    RandomData(20 << 10, static_cast<unsigned>(100 * h + round)));
    }
    std::atomic<bool> creating{true};
    std::thread prune_loop([&] {
      do {
        RunResult p = pruner.Run({"backup", "prune", "--lock-wait", "60s"});
        EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
        ++prunes;
      } while (creating.load());
    });
    std::vector<std::thread> creators;
    std::vector<std::string> ids(hosts.size());
    for (size_t h = 0; h < hosts.size(); ++h) {
      creators.emplace_back([&, h] { ids[h] = hosts[h]->Create(); });
    }
    for (auto& t : creators) t.join();
    creating = false;
    prune_loop.join();
    for (size_t h = 0; h < hosts.size(); ++h) {
      ASSERT_FALSE(ids[h].empty()) << "round " << round << " host " << h + 1;
      made[h].push_back(ids[h]);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "[ four hosts ] " << kRounds << " rounds, " << kRounds * hosts.size() << " creates, "
            << prunes << " prunes concurrently: " << seconds << " s\n";

  std::set<std::string> expected;
  for (size_t h = 0; h < hosts.size(); ++h) {
    const std::vector<std::string> newest(made[h].end() - 2, made[h].end());
    EXPECT_EQ(SetOf(hosts[h]->Ids()), SetOf(newest)) << "host " << h + 1;
    expected.insert(newest.begin(), newest.end());
  }
  EXPECT_EQ(SetOf(pruner.Ids({"--all"})), expected);
  auto verified = pruner.Json({"backup", "verify", "--all"});
  EXPECT_EQ(verified.value("ok", false), true) << verified.dump();
  EXPECT_EQ(verified["backups"].size(), expected.size());
  for (size_t h = 0; h < hosts.size(); ++h) {
    const std::string out = hosts[h]->path("restored");
    ASSERT_EQ(hosts[h]->Run({"backup", "restore", "latest", "--target", out}).exit_code, 0);
    EXPECT_EQ(DescribeTree(out), DescribeTree(hosts[h]->root())) << "host " << h + 1;
  }
}

// The size of the snapshot object `id` of the repository `prefix` in s3rver's files.
uint64_t MultiHostSnapshotSize(const S3Server& server, const std::string& prefix,
                               const std::string& id) {
  for (const auto& e : fs::recursive_directory_iterator(server.data_dir())) {
    const std::string path = e.path().string();
    if (e.is_regular_file() && path.find("/" + prefix + "/snapshots/" + id) != std::string::npos &&
        path.find("._S3rver_object") != std::string::npos &&
        path.find(".md5") == std::string::npos && path.find(".metadata") == std::string::npos) {
      return e.file_size();
    }
  }
  return 0;
}

// Must show: a backup id used again — host A forgets its backup and makes another in the same
// minute (ids are minutes), the new snapshot object of the same size — is read anew by host B,
// whose cache held the first: B's prune keeps the new backup's data, not the forgotten one's,
// and the new backup verifies.
TEST(MultiHostBackup, AnIdUsedAgainIsReadAnewByAHostThatCachedTheFirst) {
  S3Server server;
  const std::string url = "s3://bkt/reuse";
  SimHost a(server, url, "web1", "shop", "prune_after_create = false\n");
  SimHost b(server, url, "web2", "shop");
  const std::map<std::string, std::string> minute = {{"VELIN_NOW", "2026-11-25T14:30:00Z"}};
  WriteFile(a.root() + "/storage/data.bin", RandomData(1 << 20, 1));
  const std::string id = a.Create(minute);
  ASSERT_FALSE(id.empty());
  const uint64_t size = MultiHostSnapshotSize(server, "reuse", id);
  ASSERT_GT(size, 0u);
  EXPECT_EQ(b.Ids({"--all"}), std::vector<std::string>{id}) << "B reads (and caches) it";
  // The snapshot records the run's duration: another run may write a digit more. Again until
  // the new object has the first one's size.
  for (unsigned attempt = 0; attempt < 10; ++attempt) {
    ASSERT_EQ(a.Run({"backup", "forget", "--yes", id}).exit_code, 0);
    WriteFile(a.root() + "/storage/data.bin", RandomData(1 << 20, 2 + attempt));
    ASSERT_EQ(a.Create(minute), id);
    if (MultiHostSnapshotSize(server, "reuse", id) == size) break;
  }
  ASSERT_EQ(MultiHostSnapshotSize(server, "reuse", id), size);
  RunResult pruned = b.Run({"backup", "prune"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  RunResult verified = a.Run({"backup", "verify", "--all"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  RunResult restored = b.Run({"backup", "restore", id, "--target", b.path("out")});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_TRUE(ReadFileOrDie(b.path("out/storage/data.bin")) ==
              ReadFileOrDie(a.root() + "/storage/data.bin"))
      << "B restored other data than A's backup holds";
}

// The lines of `velin` in the code blocks of docs/operations.md's "The server is gone".
std::vector<std::string> ServerIsGoneCommands() {
  std::ifstream in(SourceDir() + "/docs/operations.md");
  std::string line;
  bool section = false;
  bool block = false;
  std::vector<std::string> lines;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) section = line == "## The server is gone";
    if (!section) continue;
    std::string t = line.substr(std::min(line.size(), line.find_first_not_of(' ')));
    if (t.rfind("```", 0) == 0) {
      block = !block;
    } else if (block && t.rfind("velin ", 0) == 0) {
      lines.push_back(t);
    }
  }
  return lines;
}

// docs/operations.md, "The server is gone", as written: web1 (files and an SQLite database)
// backs up and is lost; a new machine that never backed up runs the documented lines with the
// lost server's velin.toml and app.root = the new directory (for /srv/shop).
TEST(MultiHostBackup, ServerIsGoneStepsRestoreFilesAndDatabaseOnANewMachine) {
  S3Server server;
  const std::string url = "s3://bkt/fleet";
  const std::string db = "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n";
  SimHost web1(server, url, "web1", "shop", "", {"db", "storage"}, db);
  SimHost web2(server, url, "web2", "shop", "", {"db", "storage"}, db);
  for (const SimHost* h : {&web1, &web2}) {
    const std::string who = h == &web1 ? "web1" : "web2";
    WriteFile(h->root() + "/storage/uploads/logo.png", "logo of " + who);
    WriteFile(h->root() + "/storage/big.bin", RandomData(200 << 10, who == "web1" ? 1 : 2));
    fs::create_directories(h->root() + "/var");
    RunProgram({"sqlite3", h->root() + "/var/app.db",
                "CREATE TABLE orders (id INTEGER, who TEXT); INSERT INTO orders VALUES (1, '" +
                    who + "'), (2, '" + who + "');"});
  }
  ASSERT_FALSE(web1.Create().empty());
  ASSERT_FALSE(web2.Create().empty());  // web2 backs up later: the repository's newest
  const std::string files_before = DescribeTree(web1.root() + "/storage");
  const std::string rows_before =
      RunProgram({"sqlite3", web1.root() + "/var/app.db", "SELECT * FROM orders"}).out;

  // The new machine: web1's velin.toml without [app] host, app.root the new directory "shop".
  SimHost fresh(server, url, "", "shop", "", {"db", "storage"}, db);
  fs::create_directories(fresh.root() + "/var");
  EXPECT_EQ(fresh.Run({"backup", "restore", "latest", "--target", fresh.path("x")}).exit_code, 2)
      << "this machine has no backups of its own";

  const std::vector<std::string> lines = ServerIsGoneCommands();
  ASSERT_GE(lines.size(), 3u) << "docs/operations.md lost its steps";
  for (const std::string& text : lines) {
    std::vector<std::string> args;
    std::istringstream words(std::regex_replace(text, std::regex("/srv/shop"), fresh.root()));
    for (std::string w; words >> w;) args.push_back(w);
    args.erase(args.begin());  // "velin"
    RunResult r = fresh.Run(args);
    EXPECT_EQ(r.exit_code, 0) << text << "\n" << r.out << r.err;
  }
  EXPECT_EQ(DescribeTree(fresh.root() + "/storage"), files_before);
  EXPECT_EQ(RunProgram({"sqlite3", fresh.root() + "/var/app.db", "SELECT * FROM orders"}).out,
            rows_before);
  EXPECT_NE(rows_before.find("web1"), std::string::npos) << rows_before;
}

// How much a second host with the same uploads adds to a shared repository: only its own
// files and metadata, not the shared data again (the figures of docs/storage.md come from a
// larger run of the same setup).
TEST(MultiHostBackup, SharedUploadsAreStoredOnceForAllHosts) {
  S3Server server;
  const std::string url = "s3://bkt/dedup";
  const std::string uploads = RandomData(1 << 20, 11);
  SimHost web1(server, url, "web1", "shop");
  SimHost web2(server, url, "web2", "shop");
  for (const SimHost* h : {&web1, &web2}) {
    WriteFile(h->root() + "/storage/uploads/photos.bin", uploads);
    WriteFile(h->root() + "/storage/own.bin", RandomData(64 << 10, h == &web1 ? 1u : 2u));
  }
  ASSERT_FALSE(web1.Create().empty());
  const uint64_t one = web1.Json({"backup", "status"}).value("size_bytes", uint64_t{0});
  ASSERT_FALSE(web2.Create().empty());
  const uint64_t two = web2.Json({"backup", "status"}).value("size_bytes", uint64_t{0});
  std::cout << "[ dedup ] 1 host: " << one << " bytes, 2 hosts: " << two << " bytes\n";
  EXPECT_GT(one, uint64_t{1} << 20);
  EXPECT_LT(two - one, uint64_t{200} << 10) << "the second host stored the shared uploads again";

  // An incremental backup's parent is this host's newest, never another host's (whose files
  // may have the same size and time and other content).
  auto first = web1.Json({"backup", "create", "--strategy", "incremental"});
  EXPECT_EQ(first.value("parent", ""), web1.Ids().front()) << first.dump();
  auto own = web2.Json({"backup", "create", "--strategy", "incremental"});
  const auto web2_ids = web2.Ids();
  ASSERT_EQ(web2_ids.size(), 2u);
  EXPECT_EQ(own.value("parent", ""), web2_ids[0]) << own.dump();
  EXPECT_EQ(own.value("files_read", -1), 0) << "unchanged files are taken from its own parent";
}

}  // namespace
}  // namespace velin::testing
