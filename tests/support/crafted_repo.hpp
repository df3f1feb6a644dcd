// Repositories crafted by hand for hostile-input tests: snapshots written with velin's own
// repository code whose trees say whatever a test wants (names with "..", links to outside,
// impossible sizes), for restore to refuse.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "velin/repo/tree.hpp"

namespace velin::testing {

// The content of the one data blob every crafted snapshot saves; file nodes name it.
inline constexpr char kCraftedContent[] = "evil\n";

// Writes snapshot `id` into the local repository at `repo_dir`: `sources` maps a source name
// to its top tree; `subtrees` are saved too, for directory nodes to name by id. `host` and
// `app` are recorded as a backup of that host and application records them.
void CraftSnapshot(const std::string& repo_dir, const std::string& id,
                   const std::vector<std::pair<std::string, repo::Tree>>& sources,
                   const std::vector<repo::Tree>& subtrees = {}, const std::string& host = "",
                   const std::string& app = "");

// A tree holding `nodes`.
repo::Tree TreeOf(std::vector<repo::Node> nodes);

}  // namespace velin::testing
