#include "velin/db/driver.hpp"

#include <atomic>
#include <chrono>
#include <ctime>
#include <map>
#include <random>

#include "drivers.hpp"
#include "velin/core/i18n.hpp"
#include "velin/db/table_name.hpp"
#include "velin/io/env.hpp"
#include "velin/io/process_space.hpp"

namespace velin::db {

namespace internal {

constexpr std::string_view kTemporaryPrefix = "velin_restore_test_";

std::string UniqueTemporaryName() {
  static std::atomic<unsigned> counter{0};
  io::Env& env = io::Env::Default();  // the drivers' Env
  std::time_t now = std::chrono::system_clock::to_time_t(env.Now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", &tm);
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%04x", (rd() ^ counter++) & 0xffff);
  return std::string(kTemporaryPrefix) + stamp + "_" + io::WriterMark(env, '_') + "_" + suffix;
}

bool IsDeadRunsTemporaryName(io::Env& env, std::string_view name) {
  if (!name.starts_with(kTemporaryPrefix)) return false;
  // The stamp holds the separator itself: "20261125_154501_" is skipped.
  const size_t stamp_end = kTemporaryPrefix.size() + 15;
  if (name.size() <= stamp_end || name[stamp_end] != '_') return false;
  const std::optional<io::TempWriter> writer =
      io::TempWriterAfter(name.substr(stamp_end + 1), "", '_');
  return writer && io::IsDeadWriter(env, *writer);
}

void RemoveDeadRunsTemporaryFiles(io::Env& env, const std::string& dir) {
  auto entries = env.ListDir(dir);
  if (!entries) return;
  for (const io::DirEntry& e : *entries) {
    if (e.type != io::FileType::kRegular || !IsDeadRunsTemporaryName(env, e.name)) continue;
    (void)env.RemoveFile(io::JoinPath(dir, e.name));
  }
}

}  // namespace internal

Result<std::unique_ptr<Driver>> OpenDriver(const ConnectionOptions& options) {
  if (options.driver == "sqlite") {
    if (options.path.empty())
      return UsageError(std::string(Tr("database.path is required for the sqlite driver")));
    return internal::NewSqliteDriver(options);
  }
  if (options.driver == "postgresql" || options.driver == "mysql") {
    if (options.name.empty()) {
      return UsageError(TrFormat("database.name is required for the {} driver", options.driver));
    }
    if (options.driver == "postgresql") return internal::NewPostgresDriver(options);
    // The MariaDB tools get the password through an option file (tool.hpp, SecretOptionPipe),
    // which cannot hold a NUL byte; the client library would cut it there. Said before any
    // connection, without the password.
    if (options.password.find('\0') != std::string::npos) {
      return UsageError(TrFormat(
          "database '{}': the password holds a NUL byte, which the MariaDB client cannot be given",
          options.name));
    }
    return internal::NewMysqlDriver(options);
  }
  return UsageError(TrFormat("unknown database driver '{}' (expected postgresql, mysql or sqlite)",
                             options.driver));
}

std::vector<std::string> CompareRowCounts(const std::vector<TableRows>& recorded,
                                          const std::vector<TableRows>& restored) {
  std::map<std::string, std::pair<int64_t, int64_t>> both;  // -1: absent on that side
  for (const TableRows& t : recorded) both[t.name] = {t.rows, -1};
  // A backup of older velin (before 2026-12-06) recorded a."b.c" and "a.b".c both as a.b.c, with
  // the rows of both (table_name.hpp): a restored table found only under that old name counts
  // towards it, so that such a backup's restore test still passes.
  std::map<std::string, int64_t> restored_rows;
  for (const TableRows& t : restored) {
    std::string name = t.name;
    if (both.count(name) == 0) {
      std::string legacy = LegacyTableName(name);
      if (both.count(legacy) != 0) name = std::move(legacy);
    }
    restored_rows[name] += t.rows;
  }
  for (const auto& [name, rows] : restored_rows) {
    const TableRows t{.name = name, .rows = rows};
    auto it = both.find(t.name);
    if (it == both.end()) {
      both[t.name] = {-1, t.rows};
    } else {
      it->second.second = t.rows;
    }
  }
  std::vector<std::string> problems;
  for (const auto& [name, counts] : both) {
    auto [want, got] = counts;
    if (want == got) continue;
    if (got < 0) {
      problems.push_back(TrCount(
          static_cast<uint64_t>(want), "table '{}': {} row recorded, missing after the restore",
          "table '{}': {} rows recorded, missing after the restore", name, want));
    } else if (want < 0) {
      problems.push_back(TrCount(static_cast<uint64_t>(got),
                                 "table '{}': not recorded, {} row after the restore",
                                 "table '{}': not recorded, {} rows after the restore", name, got));
    } else {
      problems.push_back(TrCount(static_cast<uint64_t>(want),
                                 "table '{}': {} row recorded, {} restored",
                                 "table '{}': {} rows recorded, {} restored", name, want, got));
    }
  }
  return problems;
}

}  // namespace velin::db
