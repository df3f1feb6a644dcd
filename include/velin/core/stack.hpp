// Whether the calling thread's stack has room for another level of a walk. The walks over a
// user's directories recurse a level per directory (~2 KiB of stack each in a backup), and a
// tree can be nested deeper than any stack holds: 6,000 levels overflowed the usual 8 MiB and
// killed velin with SIGSEGV. The walks ask before going a level deeper and stop with an error
// naming the directory instead.
#pragma once

#include <string>

#include "velin/core/error.hpp"

namespace velin {

// False once less than a quarter of the thread's stack (the main thread's as RLIMIT_STACK lets
// it grow), or less than 1 MiB, is left below the caller's frame: room kept for the work done at
// the deepest level (reading a file, an error's message, a library's own frames; sanitizers'
// frames are larger). True when the system does not say.
bool StackHasRoom();

// The error of a walk that stops at `what` (a directory's path, or a tree of a backup) for want
// of stack: "`what` is nested deeper than velin's stack reaches: raise it (`ulimit -s`)", exit 1.
// For the walks over a repository's trees (restore, ls, find, diff, stats, prune, copy): a backup
// velin made under the usual stack is walked with room to spare, but one made under a larger
// stack, or a crafted one, can be deeper.
tl::unexpected<Error> StackTooDeep(const std::string& what);

// Runs `run` (velin's whole command) and returns its exit code, with a stack of at least 1 MiB
// for it and for every thread started after, whatever `ulimit -s` says: under a smaller limit
// (64 KiB: `backup list` died with SIGSEGV in its first file read, before 2026-12-08) it runs on
// a thread of its own whose stack is not bound by RLIMIT_STACK (glibc sizes the main thread's
// stack, and by default every thread's, from that limit). A limit of 1 MiB or more is kept as
// it is. Programs velin starts keep the limit. When that thread cannot be made (out of
// memory): one error line, exit 1.
int RunWithRoomyStack(int (*run)(int, char**), int argc, char** argv);

// Ok while StackHasRoom(); else StackTooDeep(what). (A walk that names the tree only to say
// this asks StackHasRoom() itself and makes the name only then.)
inline Status StackRoomBelow(const std::string& what) {
  if (StackHasRoom()) return Ok();
  return StackTooDeep(what);
}

}  // namespace velin
