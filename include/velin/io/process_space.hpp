// The tag of a process space (env.hpp's ProcessSpaceTag() is this process's): eight hex digits
// hashed from a ProcessIdentity's host, machine id, boot id and pid namespace. Two processes
// with the same tag can see each other's pids; after a reboot, on another host or in another
// container the tag differs. "" when the boot id or the pid namespace is unknown. Temp files
// carry their writer's pid and tag (WriteFileDurably), so a later run can ask its Env whether
// that writer still runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "velin/io/env.hpp"

namespace velin::io {

std::string ProcessSpaceTag(const ProcessIdentity& process);

// What a temp file's name says about its writer: "<name>.tmp-<pid>-<tag>-<random>"
// (TempPathFor), with anything after (a side file: "-journal"). nullopt for other names.
struct TempWriter {
  int64_t pid = 0;
  std::string tag;
};
std::optional<TempWriter> TempWriterOf(const std::string& file_name);

// Whether a process of this process space with that pid exists (maybe another one that got
// the pid: then its temp files wait for that one to end). This process counts.
bool PidAlive(Env& env, const ProcessIdentity& self, int64_t pid);

// Whether `file_name` is a temp file (TempWriterOf) of a writer known to be gone: one of this
// process space that no longer runs. A writer of another process space (another host sharing
// the directory, before a reboot) is not known gone: false.
bool IsDeadWritersTemp(Env& env, const std::string& file_name);

}  // namespace velin::io
