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
#include <string_view>

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

// What a name "<prefix><pid><separator><tag><separator>…" says about its writer: the restore
// test's temporary directory, database and list file (WriterMark). nullopt for other names.
std::optional<TempWriter> TempWriterAfter(std::string_view name, std::string_view prefix,
                                          char separator);

// "<pid><separator><tag>" of this process ("x" for an unknown tag, which no later run takes for
// its own): what a temporary's name carries so that a later run can tell whether it is gone.
std::string WriterMark(Env& env, char separator);

// Whether `writer` is known gone: of this process space, and no process has its pid (a pid
// taken again by another process keeps it alive until that one ends). A writer of another
// process space (another host sharing the directory or server, before a reboot) is not.
bool IsDeadWriter(Env& env, const TempWriter& writer);

// Whether a process of this process space with that pid exists (maybe another one that got
// the pid: then its temp files wait for that one to end). This process counts.
bool PidAlive(Env& env, const ProcessIdentity& self, int64_t pid);

// Whether `file_name` is a temp file (TempWriterOf) of a writer known to be gone: one of this
// process space that no longer runs. A writer of another process space (another host sharing
// the directory, before a reboot) is not known gone: false.
bool IsDeadWritersTemp(Env& env, const std::string& file_name);

}  // namespace velin::io
