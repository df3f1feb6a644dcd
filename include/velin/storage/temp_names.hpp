// The names of the temp files velin's puts leave behind when their writer dies, and which
// directories hold them (docs/storage.md "Temp files"). A sweep removes only what ParseTempName
// recognises, and only in a RepositoryDir of the TempLayout the repository layer gives: a
// repository may live in a directory that holds the user's own files too ("thesis.tmp-backup" in
// ~/Documents when the repository is ~), and those are never velin's to remove.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>

namespace velin::storage {

enum class TempKind {
  kNone,
  // "<name>.tmp-<pid>-<tag>-<n>" (io::TempPathFor: <tag> 8 hex digits or "x", <n> decimal),
  // or an older velin's "<name>.tmp-<pid>-<n>": a local put's temp file.
  kLocalWriter,
  // "<name>.tmp-<12 hex digits>": an SFTP/FTP upload before its rename.
  kUpload,
  // "<name>.tmp-old-<12 hex digits>": an SFTP/FTP object moved aside while a Put replaced it;
  // the only copy of <name> when <name> is missing.
  kMovedAside,
};

struct TempName {
  TempKind kind = TempKind::kNone;
  std::string_view final_name;  // <name>: what the put was to become (never empty)
};

// What `file_name` (one path component) is; kind kNone for anything else, e.g. a user's
// "thesis.tmp-backup" or "a.tmp-12-zz-3".
TempName ParseTempName(std::string_view file_name);

// Where a repository's objects live, as far as a sweep of temp files goes. Storage knows no
// repository layout: the repository layer names it (repo::TempFileLayout(), given to
// Backend::RemoveStaleTemps). An empty one sweeps nothing.
struct TempLayout {
  // The repository's own directories, relative to its root ("" = the root, no trailing '/').
  // No other directory is listed or swept.
  std::set<std::string, std::less<>> dirs;
  // The objects the root holds (it may be the user's home): only their temps are swept there.
  std::set<std::string, std::less<>> root_objects;
};

// Whether `dir` (relative to the repository root, "" = the root, no trailing '/') is one of the
// repository's own directories (layout.dirs).
bool IsRepositoryDir(const TempLayout& layout, std::string_view dir);

// ParseTempName of `file_name` in `dir` (as for IsRepositoryDir), kind kNone unless `dir` is a
// repository directory and, in the root, it is the temp of one of layout.root_objects.
TempName RepositoryTempName(const TempLayout& layout, std::string_view dir,
                            std::string_view file_name);

}  // namespace velin::storage
