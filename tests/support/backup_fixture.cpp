#include "support/backup_fixture.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "velin/repo/blob_id.hpp"

namespace velin::testing {

BackupApp::BackupApp(const std::vector<std::string>& include, const std::string& extra_backup) {
  std::string list;
  for (const auto& i : include) list += (list.empty() ? "\"" : ", \"") + i + "\"";
  WriteFile(dir_ / "velin.toml", "[app]\nroot = \"app\"\n[backup]\ninclude = [" + list +
                                     "]\ndestination = \"repo\"\n" + extra_backup + "\n");
  std::filesystem::create_directories(root());
}

RunResult BackupApp::Run(std::vector<std::string> args, RunOptions options) const {
  if (options.cwd.empty()) options.cwd = dir_.path();
  return RunVelin(args, options);
}

void WriteOlderFormatConfig(const std::string& repo, int version) {
  nlohmann::json config = nlohmann::json::parse(ReadFileOrDie(repo + "/config"));
  config["format_version"] = version;
  config.erase("checksum");
  WriteFile(repo + "/config", config.dump(1) + "\n");
}

RunResult RestoreLatestUnderFault(const BackupApp& app, const std::string& target,
                                  const std::string& rule) {
  std::filesystem::remove_all(target);
  RunOptions options;
  options.env["VELIN_FAULT_INJECT"] = rule;
  return app.Run({"backup", "restore", "latest", "--target", target}, options);
}

nlohmann::json BackupApp::Json(std::vector<std::string> args, int expected_exit,
                               RunOptions options) const {
  args.push_back("--json");
  RunResult r = Run(args, options);
  EXPECT_EQ(r.exit_code, expected_exit) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

std::string RandomData(size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(rng());
  return s;
}

namespace {

// " name=value" per extended attribute, sorted; values that are not printable in hex.
std::string DescribeXattrs(const std::string& path) {
  std::string names(65536, '\0');
  ssize_t n = ::llistxattr(path.c_str(), names.data(), names.size());
  if (n <= 0) return "";
  names.resize(static_cast<size_t>(n));
  std::set<std::string> sorted;
  for (size_t at = 0; at < names.size();) {
    size_t end = names.find('\0', at);
    sorted.insert(names.substr(at, end - at));
    at = end + 1;
  }
  std::string out;
  for (const auto& name : sorted) {
    std::string value(65536, '\0');
    ssize_t v = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    value.resize(v < 0 ? 0 : static_cast<size_t>(v));
    bool printable = std::all_of(value.begin(), value.end(),
                                 [](char c) { return c >= 0x20 && c < 0x7f && c != ' '; });
    std::string shown = value;
    if (!printable) {
      static const char* kHex = "0123456789abcdef";
      shown = "0x";
      for (unsigned char c : value) {
        shown.push_back(kHex[c >> 4]);
        shown.push_back(kHex[c & 15]);
      }
    }
    out += " " + name + "=" + shown;
  }
  return out;
}

}  // namespace

std::string DescribeTree(const std::string& root) {
  std::set<std::string> lines;
  std::map<ino_t, std::string> first_link;
  std::vector<std::string> paths;
  for (auto it = std::filesystem::recursive_directory_iterator(root);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    paths.push_back(it->path().string());
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    struct stat st {};
    lstat(p.c_str(), &st);
    std::string rel = p.substr(root.size());
    std::string line = rel + " mode=" + std::to_string(st.st_mode) +
                       " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." +
                       std::to_string(st.st_mtim.tv_nsec);
    if (S_ISREG(st.st_mode)) {
      line +=
          " size=" + std::to_string(st.st_size) + " sha=" + repo::Sha256(ReadFileOrDie(p)).Short();
      if (st.st_nlink > 1) {
        auto [it, first] = first_link.try_emplace(st.st_ino, rel);
        line += " link=" + it->second;
      }
    } else if (S_ISLNK(st.st_mode)) {
      line += " -> " + std::filesystem::read_symlink(p).string();
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      line +=
          " rdev=" + std::to_string(major(st.st_rdev)) + "," + std::to_string(minor(st.st_rdev));
    }
    line += DescribeXattrs(p);
    lines.insert(line);
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::vector<std::string> TempFilesUnder(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".velin-") != std::string::npos || name.find(".tmp") != std::string::npos) {
      out.push_back(e.path().string());
    }
  }
  return out;
}

}  // namespace velin::testing
