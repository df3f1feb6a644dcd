// Whether the calling thread's stack has room for another level of a walk. The walks over a
// user's directories recurse a level per directory (~2 KiB of stack each in a backup), and a
// tree can be nested deeper than any stack holds: 6,000 levels overflowed the usual 8 MiB and
// killed velin with SIGSEGV. The walks ask before going a level deeper and stop with an error
// naming the directory instead.
#pragma once

namespace velin {

// False once less than a quarter of the thread's stack (the main thread's as RLIMIT_STACK lets
// it grow), or less than 1 MiB, is left below the caller's frame: room kept for the work done at
// the deepest level (reading a file, an error's message, a library's own frames; sanitizers'
// frames are larger). True when the system does not say.
bool StackHasRoom();

}  // namespace velin
