// The tag of a process space (env.hpp's ProcessSpaceTag() is this process's): eight hex digits
// hashed from a ProcessIdentity's host, machine id, boot id and pid namespace. Two processes
// with the same tag can see each other's pids; after a reboot, on another host or in another
// container the tag differs. "" when the boot id or the pid namespace is unknown. Temp files
// carry their writer's pid and tag (WriteFileDurably), so a later run can ask its Env whether
// that writer still runs.
#pragma once

#include <string>

#include "velin/io/env.hpp"

namespace velin::io {

std::string ProcessSpaceTag(const ProcessIdentity& process);

}  // namespace velin::io
