// velin backup status and unlock on a real repository: status exits 1 with no backup, when the
// newest backup is older than monitor.max_age, and when no successful verify is recorded within
// monitor.max_verify_age (verify records it in the repository); unlock --stale removes exactly
// the locks whose owner is gone (a dead pid of this process space, or no refresh for 30 min by
// the storage's times), unlock without --stale removes all after confirmation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/backup_fixture.hpp"
#include "velin/repo/lock.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// On failure too stdout holds exactly one document, the status with its "error".
nlohmann::json FirstDocument(const RunResult& r) {
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  EXPECT_TRUE(j.contains("error")) << r.out;
  return j;
}

RunOptions At(const std::string& utc) {
  RunOptions o;
  o.env["VELIN_NOW"] = utc;
  return o;
}

TEST(BackupStatusTest, ExitCodesFollowTheNewestBackupAndTheLastVerify) {
  BackupApp app({"storage"},
                "prune_after_create = false\n[monitor]\nmax_age = \"2h\"\n"
                "max_verify_age = \"30d\"");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  RunResult none = app.Run({"backup", "status", "--json"}, At("2026-11-01T10:00:00Z"));
  EXPECT_EQ(none.exit_code, 1);
  nlohmann::json empty = FirstDocument(none);
  EXPECT_EQ(empty["ok"], false);
  EXPECT_EQ(empty["newest"], nullptr);

  ASSERT_EQ(app.Run({"backup", "create"}, At("2026-11-01T10:00:00Z")).exit_code, 0);
  // Fresh backup, but no verify recorded yet.
  RunResult unverified = app.Run({"backup", "status"}, At("2026-11-01T11:00:00Z"));
  EXPECT_EQ(unverified.exit_code, 1);
  EXPECT_NE(unverified.err.find("no successful verify is recorded"), std::string::npos)
      << unverified.err;

  ASSERT_EQ(app.Run({"backup", "verify", "--all"}, At("2026-11-01T11:00:00Z")).exit_code, 0);
  nlohmann::json fine = app.Json({"backup", "status"}, 0, At("2026-11-01T11:30:00Z"));
  EXPECT_EQ(fine["ok"], true) << fine;
  EXPECT_EQ(fine["backups"], 1);
  EXPECT_EQ(fine["newest"]["age_seconds"], 5400);
  EXPECT_EQ(fine["objects"]["snapshots"], 1);
  EXPECT_GE(fine["objects"]["data"].get<int>(), 1);
  EXPECT_GT(fine["size_bytes"].get<uint64_t>(), 0u);
  EXPECT_EQ(fine["verify"]["last_ok"], true);
  RunResult human = app.Run({"backup", "status"}, At("2026-11-01T11:30:00Z"));
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("Backups are up to date"), std::string::npos) << human.out;

  // Three hours on, the backup is older than max_age.
  RunResult stale = app.Run({"backup", "status"}, At("2026-11-01T13:00:01Z"));
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_NE(stale.err.find("monitor.max_age"), std::string::npos) << stale.err;

  // A new backup after 40 days: up to date, but the last verify is too old.
  ASSERT_EQ(app.Run({"backup", "create"}, At("2026-12-11T10:00:00Z")).exit_code, 0);
  RunResult old_verify = app.Run({"backup", "status"}, At("2026-12-11T10:05:00Z"));
  EXPECT_EQ(old_verify.exit_code, 1);
  EXPECT_NE(old_verify.err.find("the last successful verify was"), std::string::npos)
      << old_verify.err;
}

// A verify that found damage turns status red at once, whatever max_verify_age says, and the
// next verify that finds none turns it green again (one good verify earlier kept it "up to
// date" for the whole max_verify_age window after the damage was found).
TEST(BackupStatusTest, AVerifyThatFoundDamageIsAProblemUntilOneFindsNone) {
  BackupApp app({"storage"}, "prune_after_create = false\n[monitor]\nmax_verify_age = \"30d\"");
  WriteFile(app.root() + "/storage/a.txt", RandomData(20000, 5));
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);
  EXPECT_EQ(app.Run({"backup", "status"}).exit_code, 0);

  std::string pack;
  for (const auto& e : fs::recursive_directory_iterator(app.repo() + "/data")) {
    if (e.is_regular_file()) pack = e.path().string();
  }
  ASSERT_FALSE(pack.empty());
  std::string bytes = ReadFileOrDie(pack);
  const std::string intact = bytes;
  bytes[bytes.size() / 3] ^= 0x5a;
  WriteFile(pack, bytes);
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 4);
  RunResult red = app.Run({"backup", "status"});
  EXPECT_EQ(red.exit_code, 1) << red.out;
  EXPECT_NE(red.err.find("found damage"), std::string::npos) << red.err;
  nlohmann::json doc = FirstDocument(app.Run({"backup", "status", "--json"}));
  EXPECT_EQ(doc["ok"], false) << doc;

  WriteFile(pack, intact);
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);
  EXPECT_EQ(app.Run({"backup", "status"}).exit_code, 0);
}

// A restore test that fails for a reason that says nothing about the data (no temp dir)
// records nothing: it was recorded as a failed verify, and status said "found damage".
TEST(BackupStatusTest, ARestoreTestThatCouldNotRunIsNoFailedVerify) {
  BackupApp app({"storage"}, "prune_after_create = false\n[monitor]\nmax_verify_age = \"30d\"");
  WriteFile(app.root() + "/storage/a.txt", RandomData(20000, 6));
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);
  const std::string recorded = ReadFileOrDie(app.repo() + "/state/verify");
  RunOptions no_tmp;
  no_tmp.env["TMPDIR"] = app.path("no-such-dir");
  RunResult test = app.Run({"backup", "verify", "--restore-test", "latest"}, no_tmp);
  EXPECT_EQ(test.exit_code, 1) << test.err;
  EXPECT_EQ(ReadFileOrDie(app.repo() + "/state/verify"), recorded);
  RunResult status = app.Run({"backup", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_EQ(status.err.find("found damage"), std::string::npos) << status.err;
}

// Two apps in one repository: status judges the verifies of its own app's backups. Another
// app's verify cleared the first app's damage alarm, and counted as its verify.
TEST(BackupStatusTest, AnotherAppsVerifyNeitherClearsThisAppsAlarmNorCountsAsItsVerify) {
  BackupApp app({"storage"}, "prune_after_create = false\n[monitor]\nmax_verify_age = \"30d\"");
  RunOptions as_b;
  as_b.env["VELIN_APP_NAME"] = "other-app";
  WriteFile(app.root() + "/storage/a.txt", RandomData(50000, 7));
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  std::set<std::string> packs_of_a;
  for (const auto& e : fs::recursive_directory_iterator(app.repo() + "/data")) {
    if (e.is_regular_file()) packs_of_a.insert(e.path().string());
  }
  ASSERT_EQ(app.Run({"backup", "verify", "latest"}).exit_code, 0);
  EXPECT_EQ(app.Run({"backup", "status"}).exit_code, 0);

  fs::remove(app.root() + "/storage/a.txt");
  WriteFile(app.root() + "/storage/b.txt", RandomData(50000, 8));
  ASSERT_EQ(app.Run({"backup", "create"}, as_b).exit_code, 0);
  RunResult b_unverified = app.Run({"backup", "status"}, as_b);
  EXPECT_EQ(b_unverified.exit_code, 1) << b_unverified.out << b_unverified.err;
  EXPECT_NE(b_unverified.err.find("no successful verify"), std::string::npos) << b_unverified.err;

  for (const auto& pack : packs_of_a) {  // every pack of app A's only backup
    std::string bytes = ReadFileOrDie(pack);
    bytes[bytes.size() / 2] ^= 0x5a;
    WriteFile(pack, bytes);
  }
  ASSERT_EQ(app.Run({"backup", "verify", "latest"}).exit_code, 4);
  EXPECT_EQ(app.Run({"backup", "status"}).exit_code, 1);
  ASSERT_EQ(app.Run({"backup", "verify", "latest"}, as_b).exit_code, 0);
  EXPECT_EQ(app.Run({"backup", "status"}, as_b).exit_code, 0);
  RunResult a_still = app.Run({"backup", "status"});
  EXPECT_EQ(a_still.exit_code, 1) << a_still.out;
  EXPECT_NE(a_still.err.find("found damage"), std::string::npos) << a_still.err;
  nlohmann::json record = nlohmann::json::parse(ReadFileOrDie(app.repo() + "/state/verify"));
  EXPECT_EQ(record["groups"].size(), 2u) << record;
}

// A verify that passes on an older backup of the app does not clear the failure a verify found
// in a newer one (before, `verify OLD-ID` made status good again while the newest backup was
// damaged); one that passes on the newer backup does.
TEST(BackupStatusTest, APassingVerifyOfAnOlderBackupKeepsTheNewerOnesAlarm) {
  // The backups are dated days ago (their verifies' order by time): max_age is no problem.
  BackupApp app(
      {"storage"},
      "prune_after_create = false\n[monitor]\nmax_verify_age = \"30d\"\nmax_age = \"60d\"");
  WriteFile(app.root() + "/storage/a.txt", RandomData(50000, 11));
  nlohmann::json older = app.Json({"backup", "create"}, 0, At("2026-12-01T10:00:00Z"));
  const std::string older_id = older.value("id", "");
  ASSERT_FALSE(older_id.empty()) << older;
  std::set<std::string> packs_before;
  for (const auto& e : fs::recursive_directory_iterator(app.repo() + "/data")) {
    if (e.is_regular_file()) packs_before.insert(e.path().string());
  }
  WriteFile(app.root() + "/storage/b.txt", RandomData(50000, 12));
  ASSERT_EQ(app.Run({"backup", "create"}, At("2026-12-02T10:00:00Z")).exit_code, 0);
  std::vector<std::string> packs_of_newer;  // only the newer backup uses them
  for (const auto& e : fs::recursive_directory_iterator(app.repo() + "/data")) {
    if (e.is_regular_file() && packs_before.count(e.path().string()) == 0) {
      packs_of_newer.push_back(e.path().string());
    }
  }
  ASSERT_FALSE(packs_of_newer.empty());
  std::vector<std::string> intact;
  for (const auto& pack : packs_of_newer) {
    intact.push_back(ReadFileOrDie(pack));
    std::string bytes = intact.back();
    bytes[bytes.size() / 2] ^= 0x5a;
    WriteFile(pack, bytes);
  }
  ASSERT_EQ(app.Run({"backup", "verify", "latest"}).exit_code, 4);
  EXPECT_EQ(app.Run({"backup", "status"}).exit_code, 1);

  RunResult old_ok = app.Run({"backup", "verify", older_id});
  ASSERT_EQ(old_ok.exit_code, 0) << old_ok.out << old_ok.err;
  RunResult still = app.Run({"backup", "status"});
  EXPECT_EQ(still.exit_code, 1) << still.out << still.err;
  EXPECT_NE(still.err.find("found damage"), std::string::npos) << still.err;

  for (size_t i = 0; i < packs_of_newer.size(); ++i) WriteFile(packs_of_newer[i], intact[i]);
  ASSERT_EQ(app.Run({"backup", "verify", "latest"}).exit_code, 0);
  RunResult good = app.Run({"backup", "status"});
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;

  // Damaged again, and that backup forgotten: a verify of every backup left covers the newest
  // there is, and clears the alarm (the damaged one is gone).
  for (const auto& pack : packs_of_newer) {
    std::string bytes = ReadFileOrDie(pack);
    bytes[bytes.size() / 2] ^= 0x5a;
    WriteFile(pack, bytes);
  }
  ASSERT_EQ(app.Run({"backup", "verify", "latest"}).exit_code, 4);
  const nlohmann::json listed = app.Json({"backup", "list"});
  std::string newer_id;
  for (const auto& b : listed.value("backups", nlohmann::json::array())) {
    if (b.value("id", "") != older_id) newer_id = b.value("id", "");
  }
  ASSERT_FALSE(newer_id.empty()) << listed;
  RunResult forgot = app.Run({"backup", "forget", newer_id, "--yes"});
  ASSERT_EQ(forgot.exit_code, 0) << forgot.out << forgot.err;
  EXPECT_EQ(app.Run({"backup", "status"}).exit_code, 1);
  RunResult all = app.Run({"backup", "verify", "--all"});
  ASSERT_EQ(all.exit_code, 0) << all.out << all.err;
  RunResult cleared = app.Run({"backup", "status"});
  EXPECT_EQ(cleared.exit_code, 0) << cleared.out << cleared.err;
}

// A state/verify whose "groups" is there but no array (an object keyed "0", null) was read as
// an older velin's record: status judged its repository-wide "last_ok": true and said "intact",
// exit 0, though this app's own group had failed. Now it is no verify of any group (exit 1),
// and the next verify writes a sane record.
TEST(BackupStatusTest, AGroupsThatIsNoArrayIsNoVerifyOfThisApp) {
  BackupApp app({"storage"}, "prune_after_create = false\n[monitor]\nmax_verify_age = \"1d\"");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);
  ASSERT_EQ(app.Run({"backup", "status"}).exit_code, 0);
  const std::string path = app.repo() + "/state/verify";
  nlohmann::json record = nlohmann::json::parse(ReadFileOrDie(path));
  ASSERT_EQ(record["groups"].size(), 1u) << record;
  nlohmann::json own = record["groups"][0];
  own["last_ok"] = false;
  own["last_ok_time"] = 0;
  for (const nlohmann::json& groups : {nlohmann::json{{"0", own}}, nlohmann::json(nullptr)}) {
    record["groups"] = groups;
    WriteFile(path, record.dump());
    RunResult status = app.Run({"backup", "status"});
    EXPECT_EQ(status.exit_code, 1) << groups << "\n" << status.out << status.err;
    EXPECT_NE(status.err.find("no successful verify"), std::string::npos) << status.err;
  }
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);
  nlohmann::json rewritten = nlohmann::json::parse(ReadFileOrDie(path));
  ASSERT_TRUE(rewritten["groups"].is_array()) << rewritten;
  EXPECT_EQ(rewritten["groups"].size(), 1u) << rewritten;
  RunResult status = app.Run({"backup", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
}

// A lock as velin writes it: by `holder` (this machine's identity, with another pid), last
// rewritten `age_seconds` ago by the storage's clock (the file's modification time).
void WriteLock(const BackupApp& app, const std::string& name, const repo::LockHolder& holder,
               long age_seconds) {
  const long now = static_cast<long>(::time(nullptr));
  const std::string path = app.repo() + "/locks/" + name;
  WriteFile(path, repo::FormatLockRecord(repo::LockRecord{holder, "exclusive", now - age_seconds}));
  fs::last_write_time(path, fs::file_time_type::clock::now() - std::chrono::seconds(age_seconds));
}

TEST(BackupUnlockTest, StaleRemovesOnlyDeadOwnersAndPlainUnlockNeedsConfirmation) {
  BackupApp app({"storage"}, "prune_after_create = false");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  const repo::LockHolder self = io::Env::Default().ThisProcess();
  repo::LockHolder dead = self;
  dead.pid = 4194000;  // pid gone in this process space
  repo::LockHolder other = self;
  other.host = "elsewhere";
  other.pid = 1234;
  WriteLock(app, "exclusive-deadpid", dead, 5);
  WriteLock(app, "exclusive-oldother", other, 7200);  // not refreshed for 2 h
  WriteLock(app, "exclusive-live", self, 5);          // this test process: alive

  nlohmann::json status = app.Json({"backup", "status"}, 0);
  ASSERT_EQ(status["locks"].size(), 3u) << status;
  for (const auto& l : status["locks"]) {
    EXPECT_EQ(l["stale"], l["name"] != "locks/exclusive-live") << l;
  }
  nlohmann::json stale = app.Json({"backup", "unlock", "--stale"});
  EXPECT_EQ(stale["removed"].size(), 2u) << stale;
  EXPECT_EQ(stale["remaining"], 1);
  EXPECT_TRUE(fs::exists(app.repo() + "/locks/exclusive-live"));
  EXPECT_FALSE(fs::exists(app.repo() + "/locks/exclusive-deadpid"));
  // The live exclusive lock keeps a backup out.
  EXPECT_EQ(app.Run({"backup", "create"}).exit_code, 3);

  // Without --stale it asks; with no terminal and no --yes that is a usage error.
  RunResult refused = app.Run({"backup", "unlock"});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_TRUE(fs::exists(app.repo() + "/locks/exclusive-live"));
  RunResult all = app.Run({"backup", "unlock", "--yes"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  EXPECT_TRUE(fs::is_empty(app.repo() + "/locks"));
  EXPECT_EQ(app.Run({"backup", "create"}).exit_code, 0);
}

// A verify recorded by a clock a year ahead read "Last verify: 0s ago, intact" and kept
// monitor.max_verify_age quiet for that year, however long verifies had stopped. It counts as
// no verify now, and says so; the next verify by a right clock counts again.
TEST(BackupStatusTest, AVerifyDatedAfterTheClockCountsAsNone) {
  BackupApp app({"storage"}, "prune_after_create = false\n[monitor]\nmax_verify_age = \"30d\"");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  RunOptions year_ahead = At(UtcFromNow(365 * 86400));
  ASSERT_EQ(app.Run({"backup", "verify", "latest"}, year_ahead).exit_code, 0);
  const nlohmann::json record = nlohmann::json::parse(ReadFileOrDie(app.repo() + "/state/verify"));
  const int64_t verified = record.value("last_ok_time", int64_t{0});
  ASSERT_GT(verified, static_cast<int64_t>(::time(nullptr)) + 300 * 86400) << record;

  RunOptions berlin = At(UtcFromNow(3600));
  berlin.env["TZ"] = "Europe/Berlin";
  RunResult human = app.Run({"backup", "status"}, berlin);
  EXPECT_EQ(human.exit_code, 1) << human.out << human.err;
  EXPECT_NE(human.err.find("error: no successful verify is recorded before this machine's clock "
                           "(monitor.max_verify_age is 30d)"),
            std::string::npos)
      << human.err;
  // Its date in local time (docs/cli.md, "Times").
  std::time_t at = static_cast<std::time_t>(verified);
  std::tm tm{};
  const char* old_tz = std::getenv("TZ");
  const std::optional<std::string> saved_tz =
      old_tz != nullptr ? std::optional<std::string>(old_tz) : std::nullopt;
  ::setenv("TZ", "Europe/Berlin", 1);
  ::tzset();
  ::localtime_r(&at, &tm);
  if (saved_tz) {
    ::setenv("TZ", saved_tz->c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
  char local[32];
  std::strftime(local, sizeof local, "%Y-%m-%d %H:%M:%S", &tm);
  EXPECT_NE(human.err.find(std::string("warning: the last successful verify is dated ") + local +
                           ", after this machine's clock"),
            std::string::npos)
      << human.err;
  EXPECT_NE(human.out.find(std::string("Last verify: ") + local +
                           " (after this machine's clock), intact"),
            std::string::npos)
      << human.out;
  EXPECT_EQ(human.out.find("Last verify: 0s ago"), std::string::npos) << human.out;
  nlohmann::json doc = FirstDocument(app.Run({"backup", "status", "--json"}, berlin));
  EXPECT_EQ(doc["ok"], false) << doc;

  // Without max_verify_age it is no failure, but still named.
  BackupApp plain({"storage"}, "prune_after_create = false");
  WriteFile(plain.root() + "/storage/a.txt", "a\n");
  ASSERT_EQ(plain.Run({"backup", "create"}).exit_code, 0);
  ASSERT_EQ(plain.Run({"backup", "verify", "latest"}, year_ahead).exit_code, 0);
  RunResult quiet = plain.Run({"backup", "status"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.out << quiet.err;
  EXPECT_NE(quiet.err.find("after this machine's clock: a clock was wrong when it ran"),
            std::string::npos)
      << quiet.err;

  // A verify by the right clock counts again.
  ASSERT_EQ(app.Run({"backup", "verify", "latest"}).exit_code, 0);
  RunResult fine = app.Run({"backup", "status"});
  EXPECT_EQ(fine.exit_code, 0) << fine.out << fine.err;
  EXPECT_EQ(fine.err, "");
}

// Another host's lock is judged by the storage's clock, as a velin that locks judges it: its
// modification time against that of a probe object written now. `unlock --stale` measured it
// by this machine's clock, and with that clock 31 minutes ahead removed a live lock of another
// host (refreshed a moment ago), and `status` called it stale.
TEST(BackupUnlockTest, StaleJudgesAnotherHostsLockByTheStoragesClockNotThisMachines) {
  BackupApp app({"storage"}, "prune_after_create = false");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  repo::LockHolder web9;
  web9.host = "web9";
  web9.machine_id = "0f3c00000000000000000000000000ff";
  web9.boot_id = "6a1e0000-0000-0000-0000-000000000000";
  web9.pid_ns = "pid:[4026531836]";
  web9.pid = 4242;
  web9.start_ticks = 1;
  WriteLock(app, "shared-00000000000000aa", web9, 0);  // refreshed just now
  WriteLock(app, "exclusive-oldother", web9, 7200);    // not refreshed for 2 h
  // Probes a killed status or unlock left: one two hours old goes, a fresh one stays.
  WriteFile(app.repo() + "/state/clock-00000000deadbeef", "x");
  fs::last_write_time(app.repo() + "/state/clock-00000000deadbeef",
                      fs::file_time_type::clock::now() - std::chrono::hours(2));
  WriteFile(app.repo() + "/state/clock-00000000feedface", "x");

  const RunOptions ahead = At(UtcFromNow(31 * 60));
  RunResult status = app.Run({"backup", "status", "--json"}, ahead);
  ASSERT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_EQ(status.err, "");
  nlohmann::json doc = nlohmann::json::parse(status.out, nullptr, false);
  ASSERT_EQ(doc["locks"].size(), 2u) << doc;
  for (const auto& l : doc["locks"]) {
    const bool old = l["name"] == "locks/exclusive-oldother";
    EXPECT_EQ(l["stale"], old) << l;
    if (!old) {
      EXPECT_LE(l["age_seconds"].get<int64_t>(), 60) << l;
    }
  }
  RunResult unlock = app.Run({"backup", "unlock", "--stale", "--json"}, ahead);
  ASSERT_EQ(unlock.exit_code, 0) << unlock.out << unlock.err;
  EXPECT_EQ(unlock.err, "");
  nlohmann::json removed = nlohmann::json::parse(unlock.out, nullptr, false);
  EXPECT_EQ(removed["removed"], nlohmann::json::array({"locks/exclusive-oldother"})) << removed;
  EXPECT_TRUE(fs::exists(app.repo() + "/locks/shared-00000000000000aa"));
  // The probes are gone again, and the old leftover with them.
  std::set<std::string> state;
  for (const auto& e : fs::directory_iterator(app.repo() + "/state")) {
    state.insert(e.path().filename().string());
  }
  EXPECT_EQ(state.count("clock-00000000deadbeef"), 0u);
  EXPECT_EQ(state.count("clock-00000000feedface"), 1u);
  size_t probes = 0;
  for (const auto& name : state) probes += name.rfind("clock-", 0) == 0 ? 1 : 0;
  EXPECT_EQ(probes, 1u) << "a probe was left behind";

  // Where no probe can be written (a read-only repository), this machine's clock stands in,
  // and status says so.
  RunOptions read_only = ahead;
  read_only.env["VELIN_FAULT_INJECT"] = "create:1:EROFS:sticky";
  RunResult fallback = app.Run({"backup", "status"}, read_only);
  EXPECT_EQ(fallback.exit_code, 0) << fallback.out << fallback.err;
  EXPECT_NE(fallback.err.find("warning: cannot read the storage's clock ("), std::string::npos)
      << fallback.err;
  EXPECT_NE(fallback.err.find("): lock ages are measured by this machine's clock"),
            std::string::npos)
      << fallback.err;
}

}  // namespace
}  // namespace velin::testing
